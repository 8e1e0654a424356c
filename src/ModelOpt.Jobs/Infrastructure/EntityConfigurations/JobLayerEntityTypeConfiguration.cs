using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class JobLayerEntityTypeConfiguration : IEntityTypeConfiguration<JobLayer>
{
    public void Configure(EntityTypeBuilder<JobLayer> builder)
    {
        builder.ToTable("job_layers");
        builder.HasKey(l => l.Id);
        builder.Property(l => l.Layer).HasMaxLength(256);
        builder.Property(l => l.Kind).HasMaxLength(32);
        builder.HasIndex(l => new { l.JobId, l.Rank }).IsUnique();
        builder.HasOne<OptimizationJob>().WithMany().HasForeignKey(l => l.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
