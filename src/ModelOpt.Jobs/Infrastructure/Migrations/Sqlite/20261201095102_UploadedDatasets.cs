using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ModelOpt.Jobs.Infrastructure.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class UploadedDatasets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "DatasetId",
                table: "jobs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "UsesUploadedDataset",
                table: "jobs",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "CalibrationImages",
                table: "job_stages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CalibrationSampleSha256",
                table: "job_stages",
                type: "TEXT",
                fixedLength: true,
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CalibrationSampling",
                table: "job_stages",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "CalibrationSeed",
                table: "job_stages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "DatasetSha256",
                table: "job_stages",
                type: "TEXT",
                fixedLength: true,
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "datasets",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    FileName = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Format = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    SizeBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", fixedLength: true, maxLength: 64, nullable: false),
                    RelativePath = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Channels = table.Column<int>(type: "INTEGER", nullable: false),
                    class_names_json = table.Column<string>(type: "TEXT", nullable: false),
                    TrainImages = table.Column<int>(type: "INTEGER", nullable: false),
                    TestImages = table.Column<int>(type: "INTEGER", nullable: false),
                    ImageHeight = table.Column<int>(type: "INTEGER", nullable: true),
                    ImageWidth = table.Column<int>(type: "INTEGER", nullable: true),
                    IdempotencyKey = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datasets", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_jobs_DatasetId",
                table: "jobs",
                column: "DatasetId");

            migrationBuilder.CreateIndex(
                name: "IX_datasets_CreatedAt",
                table: "datasets",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_datasets_IdempotencyKey",
                table: "datasets",
                column: "IdempotencyKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_datasets_Sha256",
                table: "datasets",
                column: "Sha256");

            migrationBuilder.AddForeignKey(
                name: "FK_jobs_datasets_DatasetId",
                table: "jobs",
                column: "DatasetId",
                principalTable: "datasets",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_jobs_datasets_DatasetId",
                table: "jobs");

            migrationBuilder.DropTable(
                name: "datasets");

            migrationBuilder.DropIndex(
                name: "IX_jobs_DatasetId",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "DatasetId",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "UsesUploadedDataset",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "CalibrationImages",
                table: "job_stages");

            migrationBuilder.DropColumn(
                name: "CalibrationSampleSha256",
                table: "job_stages");

            migrationBuilder.DropColumn(
                name: "CalibrationSampling",
                table: "job_stages");

            migrationBuilder.DropColumn(
                name: "CalibrationSeed",
                table: "job_stages");

            migrationBuilder.DropColumn(
                name: "DatasetSha256",
                table: "job_stages");
        }
    }
}
