using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ModelOpt.Jobs.Infrastructure.Migrations.Sqlite
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
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "InputHeight",
                table: "checkpoints",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "InputWidth",
                table: "checkpoints",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "NumClasses",
                table: "checkpoints",
                type: "INTEGER",
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
