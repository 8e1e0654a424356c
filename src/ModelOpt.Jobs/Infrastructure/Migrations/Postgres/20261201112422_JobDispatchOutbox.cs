using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ModelOpt.Jobs.Infrastructure.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class JobDispatchOutbox : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "DispatchPending",
                table: "jobs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateIndex(
                name: "IX_jobs_DispatchPending_CreatedAt",
                table: "jobs",
                columns: new[] { "DispatchPending", "CreatedAt" },
                filter: "\"DispatchPending\"");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_jobs_DispatchPending_CreatedAt",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "DispatchPending",
                table: "jobs");
        }
    }
}
