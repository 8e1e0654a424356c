using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class StageResultEntityTypeConfiguration : IEntityTypeConfiguration<StageResult>
{
    // An identical output gives an SQNR of +∞, which JSON writes only as a named literal.
    private static readonly JsonSerializerOptions FidelityJson = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public void Configure(EntityTypeBuilder<StageResult> builder)
    {
        builder.ToTable("stage_results");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Stage).HasConversion<string>().HasMaxLength(32);
        builder.Property(r => r.Backend).HasMaxLength(64);
        builder.Property(r => r.Device).HasMaxLength(32);
        builder.Property(r => r.Note).HasMaxLength(1024);
        builder.Property(r => r.Fidelity)
            .HasConversion(
                fidelity => fidelity == null ? null : JsonSerializer.Serialize(fidelity, FidelityJson),
                json => json == null ? null : JsonSerializer.Deserialize<List<OutputFidelity>>(json, FidelityJson),
                new ValueComparer<List<OutputFidelity>?>(
                    (a, b) => a == null ? b == null : b != null && a.SequenceEqual(b),
                    fidelity => fidelity == null ? 0 : fidelity.Count,
                    fidelity => fidelity == null ? null : fidelity.ToList()))
            .HasColumnName("fidelity_json");
        builder.HasIndex(r => new { r.JobId, r.Stage, r.Ordinal }).IsUnique();
    }
}
