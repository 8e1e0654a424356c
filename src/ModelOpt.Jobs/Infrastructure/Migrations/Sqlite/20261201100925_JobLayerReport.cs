using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ModelOpt.Jobs.Infrastructure.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class JobLayerReport : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "job_layers",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    JobId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Rank = table.Column<int>(type: "INTEGER", nullable: false),
                    Layer = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SqnrDb = table.Column<double>(type: "REAL", nullable: false),
                    Mse = table.Column<double>(type: "REAL", nullable: false),
                    ActivationMin = table.Column<double>(type: "REAL", nullable: false),
                    ActivationMax = table.Column<double>(type: "REAL", nullable: false),
                    OutputScale = table.Column<double>(type: "REAL", nullable: false),
                    OutputZeroPoint = table.Column<long>(type: "INTEGER", nullable: false),
                    AccuracyGainWhenFloat = table.Column<double>(type: "REAL", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_job_layers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_job_layers_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_job_layers_JobId_Rank",
                table: "job_layers",
                columns: new[] { "JobId", "Rank" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "job_layers");
        }
    }
}
