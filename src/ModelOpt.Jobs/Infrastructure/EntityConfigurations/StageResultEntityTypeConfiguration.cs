using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class StageResultEntityTypeConfiguration : IEntityTypeConfiguration<StageResult>
{
    public void Configure(EntityTypeBuilder<StageResult> builder)
    {
        builder.ToTable("stage_results");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Stage).HasConversion<string>().HasMaxLength(32);
        builder.Property(r => r.Backend).HasMaxLength(64);
        builder.Property(r => r.Device).HasMaxLength(32);
        builder.Property(r => r.Note).HasMaxLength(1024);
        builder.HasIndex(r => new { r.JobId, r.Stage, r.Ordinal }).IsUnique();
    }
}
