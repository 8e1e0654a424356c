// Keeps the jobs list current: polls GET /api/jobs and updates status and progress in place; reloads when a job finishes
// (its headline figures come from the server).
"use strict";
(() => {
    const table = document.getElementById("jobs");
    if (!table) return;
    const status = table.dataset.liveList;
    async function refresh() {
        // The same page of the same filtered list as the server rendered.
        const query = new URLSearchParams({ page: table.dataset.page, pageSize: table.dataset.pageSize });
        if (status) query.set("status", status);
        for (const filter of ["model", "dataset", "device"]) {
            if (table.dataset[filter]) query.set(filter, table.dataset[filter]);
        }
        const result = await modelopt.request(`/api/jobs?${query}`);
        if (!result.ok) return;
        for (const job of result.body.items) {
            const row = table.querySelector(`tr[data-job-id="${job.id}"]`);
            if (!row) continue;
            if (row.dataset.status !== job.status && modelopt.finished.includes(job.status)) {
                location.reload();
                return;
            }
            row.dataset.status = job.status;
            const badge = row.querySelector(".badge");
            badge.textContent = job.status;
            badge.className = `badge ${job.status.toLowerCase()}`;
            row.querySelector(".progress-text").textContent = job.status === "Running" ? `${job.currentStage} ${Math.round(job.progress)}%` : "";
        }
    }
    if ([...table.querySelectorAll("tr[data-status]")].some(r => !modelopt.finished.includes(r.dataset.status))) {
        setInterval(refresh, 2000);
    }
})();
