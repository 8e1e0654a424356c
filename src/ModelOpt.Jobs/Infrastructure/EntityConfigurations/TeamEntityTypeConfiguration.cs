using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ModelOpt.Jobs.Infrastructure.EntityConfigurations;

public sealed class TeamEntityTypeConfiguration : IEntityTypeConfiguration<Team>
{
    public void Configure(EntityTypeBuilder<Team> builder)
    {
        builder.ToTable("teams");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Name).HasMaxLength(Team.MaxNameLength);
        builder.HasIndex(t => t.Name).IsUnique();
        // Rows that existed before teams, and open access, belong to this one.
        builder.HasData(new Team { Id = Team.DefaultId, Name = Team.DefaultName, CreatedAt = new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc) });
    }
}
