using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ModelOpt.Jobs.Infrastructure.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class CheckpointDimensions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "InputChannels",
                table: "checkpoints",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "InputHeight",
                table: "checkpoints",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "InputWidth",
                table: "checkpoints",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "NumClasses",
                table: "checkpoints",
                type: "integer",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "InputChannels",
                table: "checkpoints");

            migrationBuilder.DropColumn(
                name: "InputHeight",
                table: "checkpoints");

            migrationBuilder.DropColumn(
                name: "InputWidth",
                table: "checkpoints");

            migrationBuilder.DropColumn(
                name: "NumClasses",
                table: "checkpoints");
        }
    }
}
