using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class JobStageEntityTypeConfiguration : IEntityTypeConfiguration<JobStage>
{
    public void Configure(EntityTypeBuilder<JobStage> builder)
    {
        builder.ToTable("job_stages");
        builder.HasKey(s => s.Id);
        builder.Property(s => s.Stage).HasConversion<string>().HasMaxLength(32);
        builder.Property(s => s.WorkerName).HasMaxLength(256);
        builder.Property(s => s.CpuModel).HasMaxLength(256);
        builder.Property(s => s.CalibrationSampling).HasMaxLength(16);
        builder.Property(s => s.CalibrationSampleSha256).HasMaxLength(64).IsFixedLength();
        builder.Property(s => s.DatasetSha256).HasMaxLength(64).IsFixedLength();
        // A stage completes once per job: a second run of the same stage cannot commit a duplicate.
        builder.HasIndex(s => new { s.JobId, s.Stage }).IsUnique();
    }
}
