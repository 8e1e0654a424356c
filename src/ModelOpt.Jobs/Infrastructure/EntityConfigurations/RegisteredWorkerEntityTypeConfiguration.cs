using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class RegisteredWorkerEntityTypeConfiguration : IEntityTypeConfiguration<RegisteredWorker>
{
    public void Configure(EntityTypeBuilder<RegisteredWorker> builder)
    {
        builder.ToTable("workers");
        builder.HasKey(w => w.Id);
        builder.Property(w => w.Name).HasMaxLength(256);
        builder.Property(w => w.Host).HasMaxLength(256);
        builder.Property(w => w.Device).HasMaxLength(32);
        builder.Property(w => w.Queue).HasMaxLength(32);
        builder.Property(w => w.CpuModel).HasMaxLength(256);
        builder.Property(w => w.LibTorchVersion).HasMaxLength(64);
        builder.Property(w => w.OnnxRuntimeVersion).HasMaxLength(64);
        builder.Property(w => w.ArtifactAccess).HasMaxLength(16);
        // The routing check asks "is any worker of this queue beating?" on every job submission.
        builder.HasIndex(w => new { w.Queue, w.LastHeartbeatAt });
    }
}
