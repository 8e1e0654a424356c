using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ModelOpt.Jobs.Infrastructure.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ApiKeysAndIdempotency : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // One format enum, the engine's: "Pth" rows become "PyTorch".
            migrationBuilder.Sql("UPDATE checkpoints SET \"Format\" = 'PyTorch' WHERE \"Format\" = 'Pth'");

            migrationBuilder.AddColumn<string>(
                name: "IdempotencyKey",
                table: "jobs",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "IdempotencyKey",
                table: "checkpoints",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "api_keys",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Prefix = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Hash = table.Column<string>(type: "character(64)", fixedLength: true, maxLength: 64, nullable: false),
                    Scope = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_api_keys", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_jobs_IdempotencyKey",
                table: "jobs",
                column: "IdempotencyKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_checkpoints_IdempotencyKey",
                table: "checkpoints",
                column: "IdempotencyKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_Hash",
                table: "api_keys",
                column: "Hash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("UPDATE checkpoints SET \"Format\" = 'Pth' WHERE \"Format\" = 'PyTorch'");

            migrationBuilder.DropTable(
                name: "api_keys");

            migrationBuilder.DropIndex(
                name: "IX_jobs_IdempotencyKey",
                table: "jobs");

            migrationBuilder.DropIndex(
                name: "IX_checkpoints_IdempotencyKey",
                table: "checkpoints");

            migrationBuilder.DropColumn(
                name: "IdempotencyKey",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "IdempotencyKey",
                table: "checkpoints");
        }
    }
}
