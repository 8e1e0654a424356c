using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ModelOpt.Jobs.Infrastructure.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Teams : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Every existing key, checkpoint, dataset and job belongs to the default team, which this migration creates.
            migrationBuilder.AddColumn<Guid>(
                name: "TeamId",
                table: "jobs",
                type: "TEXT",
                nullable: false,
                defaultValue: Model.Team.DefaultId);

            migrationBuilder.AddColumn<Guid>(
                name: "TeamId",
                table: "datasets",
                type: "TEXT",
                nullable: false,
                defaultValue: Model.Team.DefaultId);

            migrationBuilder.AddColumn<Guid>(
                name: "TeamId",
                table: "checkpoints",
                type: "TEXT",
                nullable: false,
                defaultValue: Model.Team.DefaultId);

            migrationBuilder.AddColumn<Guid>(
                name: "TeamId",
                table: "api_keys",
                type: "TEXT",
                nullable: false,
                defaultValue: Model.Team.DefaultId);

            migrationBuilder.CreateTable(
                name: "teams",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_teams", x => x.Id);
                });

            migrationBuilder.InsertData(
                table: "teams",
                columns: new[] { "Id", "CreatedAt", "Name" },
                values: new object[] { new Guid("00000000-0000-0000-0000-000000000001"), new DateTime(2026, 12, 7, 0, 0, 0, 0, DateTimeKind.Utc), "default" });

            migrationBuilder.CreateIndex(
                name: "IX_jobs_TeamId",
                table: "jobs",
                column: "TeamId");

            migrationBuilder.CreateIndex(
                name: "IX_datasets_TeamId",
                table: "datasets",
                column: "TeamId");

            migrationBuilder.CreateIndex(
                name: "IX_checkpoints_TeamId",
                table: "checkpoints",
                column: "TeamId");

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_TeamId",
                table: "api_keys",
                column: "TeamId");

            migrationBuilder.CreateIndex(
                name: "IX_teams_Name",
                table: "teams",
                column: "Name",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_api_keys_teams_TeamId",
                table: "api_keys",
                column: "TeamId",
                principalTable: "teams",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_checkpoints_teams_TeamId",
                table: "checkpoints",
                column: "TeamId",
                principalTable: "teams",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_datasets_teams_TeamId",
                table: "datasets",
                column: "TeamId",
                principalTable: "teams",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_jobs_teams_TeamId",
                table: "jobs",
                column: "TeamId",
                principalTable: "teams",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_api_keys_teams_TeamId",
                table: "api_keys");

            migrationBuilder.DropForeignKey(
                name: "FK_checkpoints_teams_TeamId",
                table: "checkpoints");

            migrationBuilder.DropForeignKey(
                name: "FK_datasets_teams_TeamId",
                table: "datasets");

            migrationBuilder.DropForeignKey(
                name: "FK_jobs_teams_TeamId",
                table: "jobs");

            migrationBuilder.DropTable(
                name: "teams");

            migrationBuilder.DropIndex(
                name: "IX_jobs_TeamId",
                table: "jobs");

            migrationBuilder.DropIndex(
                name: "IX_datasets_TeamId",
                table: "datasets");

            migrationBuilder.DropIndex(
                name: "IX_checkpoints_TeamId",
                table: "checkpoints");

            migrationBuilder.DropIndex(
                name: "IX_api_keys_TeamId",
                table: "api_keys");

            migrationBuilder.DropColumn(
                name: "TeamId",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "TeamId",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "TeamId",
                table: "checkpoints");

            migrationBuilder.DropColumn(
                name: "TeamId",
                table: "api_keys");
        }
    }
}
