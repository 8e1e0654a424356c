using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ModelOpt.Jobs.Infrastructure.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DatasetLabeled : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Every dataset stored before this column had labels (uploads without them were refused).
            migrationBuilder.AddColumn<bool>(
                name: "Labeled",
                table: "datasets",
                type: "boolean",
                nullable: false,
                defaultValue: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Labeled",
                table: "datasets");
        }
    }
}
