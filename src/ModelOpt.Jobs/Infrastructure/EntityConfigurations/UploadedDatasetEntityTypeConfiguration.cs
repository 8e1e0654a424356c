using System.Text.Json;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class UploadedDatasetEntityTypeConfiguration : IEntityTypeConfiguration<UploadedDataset>
{
    public void Configure(EntityTypeBuilder<UploadedDataset> builder)
    {
        builder.ToTable("datasets");
        builder.HasKey(d => d.Id);
        builder.HasOne<Team>().WithMany().HasForeignKey(d => d.TeamId).OnDelete(DeleteBehavior.Restrict);
        builder.Property(d => d.Name).HasMaxLength(128);
        builder.Property(d => d.FileName).HasMaxLength(255);
        builder.Property(d => d.Format).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.Sha256).HasMaxLength(64).IsFixedLength();
        builder.Property(d => d.RelativePath).HasMaxLength(512);
        builder.Property(d => d.ClassNames)
            .HasConversion(
                names => JsonSerializer.Serialize(names, JsonSerializerOptions.Default),
                json => JsonSerializer.Deserialize<List<string>>(json, JsonSerializerOptions.Default) ?? new List<string>(),
                new ValueComparer<List<string>>((a, b) => a!.SequenceEqual(b!), names => names.Count, names => names.ToList()))
            .HasColumnName("class_names_json");
        builder.Property(d => d.IdempotencyKey).HasMaxLength(256);
        builder.HasIndex(d => d.IdempotencyKey).IsUnique();
        builder.HasIndex(d => d.Sha256);
        builder.HasIndex(d => d.CreatedAt);
    }
}
