using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class JobArtifactEntityTypeConfiguration : IEntityTypeConfiguration<JobArtifact>
{
    public void Configure(EntityTypeBuilder<JobArtifact> builder)
    {
        builder.ToTable("job_artifacts");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Stage).HasConversion<string>().HasMaxLength(32);
        builder.Property(a => a.Name).HasMaxLength(128);
        builder.Property(a => a.ContentType).HasMaxLength(128);
        builder.Property(a => a.RelativePath).HasMaxLength(512);
        builder.Property(a => a.Sha256).HasMaxLength(64).IsFixedLength();
        builder.HasIndex(a => new { a.JobId, a.Name }).IsUnique();
    }
}
