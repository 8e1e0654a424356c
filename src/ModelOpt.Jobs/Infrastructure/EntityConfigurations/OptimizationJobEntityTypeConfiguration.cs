using System.Text.Json;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ModelOpt.Jobs.Contracts;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class OptimizationJobEntityTypeConfiguration : IEntityTypeConfiguration<OptimizationJob>
{
    private static readonly JsonSerializerOptions SpecJson = JobSpec.Json;

    public void Configure(EntityTypeBuilder<OptimizationJob> builder)
    {
        builder.ToTable("jobs");
        builder.HasKey(j => j.Id);
        builder.HasOne<Team>().WithMany().HasForeignKey(j => j.TeamId).OnDelete(DeleteBehavior.Restrict);
        builder.Property(j => j.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(j => j.CurrentStage).HasConversion<string>().HasMaxLength(32);
        builder.Property(j => j.Model).HasMaxLength(64);
        builder.Property(j => j.Dataset).HasMaxLength(OptimizationJob.MaxDatasetNameLength);
        builder.Property(j => j.DataPath).HasMaxLength(1024);
        builder.Property(j => j.Device).HasMaxLength(32);
        builder.Property(j => j.Queue).HasMaxLength(32);
        builder.Property(j => j.ProgressMessage).HasMaxLength(512);
        builder.Property(j => j.HangfireJobId).HasMaxLength(64);
        builder.Property(j => j.WorkerName).HasMaxLength(256);
        builder.Property(j => j.Spec)
            .HasConversion(
                spec => JsonSerializer.Serialize(spec, SpecJson),
                json => JsonSerializer.Deserialize<JobSpec>(json, SpecJson) ?? new JobSpec(),
                new ValueComparer<JobSpec>(
                    (a, b) => JsonSerializer.Serialize(a, SpecJson) == JsonSerializer.Serialize(b, SpecJson),
                    spec => JsonSerializer.Serialize(spec, SpecJson).GetHashCode(),
                    spec => JsonSerializer.Deserialize<JobSpec>(JsonSerializer.Serialize(spec, SpecJson), SpecJson)!))
            .HasColumnName("spec_json");

        builder.HasOne(j => j.Checkpoint).WithMany().HasForeignKey(j => j.CheckpointId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne(j => j.UploadedDataset).WithMany().HasForeignKey(j => j.DatasetId).OnDelete(DeleteBehavior.SetNull);
        builder.HasMany(j => j.Stages).WithOne().HasForeignKey(s => s.JobId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(j => j.Results).WithOne().HasForeignKey(r => r.JobId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(j => j.Artifacts).WithOne().HasForeignKey(a => a.JobId).OnDelete(DeleteBehavior.Cascade);

        builder.HasIndex(j => new { j.Status, j.CreatedAt });
        // The outbox: the relay reads only marked rows, a handful at any time among all jobs.
        builder.HasIndex(j => new { j.DispatchPending, j.CreatedAt }).HasFilter("\"DispatchPending\"");
        builder.Property(j => j.IdempotencyKey).HasMaxLength(256);
        builder.HasIndex(j => j.IdempotencyKey).IsUnique();
    }
}
