using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ModelOpt.Jobs.Infrastructure.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class WorkerRegistry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CpuModel",
                table: "job_stages",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "workers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Host = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Device = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Queue = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    CpuModel = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Avx2 = table.Column<bool>(type: "boolean", nullable: false),
                    Avx512Vnni = table.Column<bool>(type: "boolean", nullable: false),
                    Amx = table.Column<bool>(type: "boolean", nullable: false),
                    Threads = table.Column<int>(type: "integer", nullable: false),
                    LibTorchVersion = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    OnnxRuntimeVersion = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ArtifactAccess = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastHeartbeatAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    StoppedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    CurrentJobId = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_workers", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_workers_Queue_LastHeartbeatAt",
                table: "workers",
                columns: new[] { "Queue", "LastHeartbeatAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "workers");

            migrationBuilder.DropColumn(
                name: "CpuModel",
                table: "job_stages");
        }
    }
}
