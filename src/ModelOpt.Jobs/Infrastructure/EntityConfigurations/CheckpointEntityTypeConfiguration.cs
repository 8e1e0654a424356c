using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class CheckpointEntityTypeConfiguration : IEntityTypeConfiguration<Checkpoint>
{
    public void Configure(EntityTypeBuilder<Checkpoint> builder)
    {
        builder.ToTable("checkpoints");
        builder.HasKey(c => c.Id);
        builder.HasOne<Team>().WithMany().HasForeignKey(c => c.TeamId).OnDelete(DeleteBehavior.Restrict);
        builder.Property(c => c.FileName).HasMaxLength(255);
        builder.Property(c => c.Format).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.Model).HasMaxLength(64);
        builder.Property(c => c.Sha256).HasMaxLength(64).IsFixedLength();
        builder.Property(c => c.RelativePath).HasMaxLength(512);
        builder.HasIndex(c => c.Sha256);
        builder.HasIndex(c => c.CreatedAt);
        builder.Property(c => c.IdempotencyKey).HasMaxLength(256);
        builder.HasIndex(c => c.IdempotencyKey).IsUnique();
    }
}
