// The job page: progress follows the running job, the page reloads when a stage completes or the job finishes;
// cancel and retry call the API and show its answer.
"use strict";
(() => {
    const job = document.getElementById("job");
    const id = job.dataset.jobId;
    const actionError = document.querySelector(".action-error");
    for (const button of document.querySelectorAll("[data-action]")) {
        button.addEventListener("click", async () => {
            button.disabled = true;
            const result = await modelopt.request(`/api/jobs/${id}/${button.dataset.action}`, { method: "POST" });
            if (result.ok) {
                location.reload();
                return;
            }
            actionError.textContent = modelopt.problemText(result.body);
            actionError.hidden = false;
            button.disabled = false;
        });
    }
    if (modelopt.finished.includes(job.dataset.status)) return;
    const completedStages = stages => stages.filter(s => s === "Completed").length;
    const shown = completedStages([...document.querySelectorAll("#stages tbody tr")].map(r => r.cells[1].textContent));
    setInterval(async () => {
        const result = await modelopt.request(`/api/jobs/${id}`);
        if (!result.ok) return;
        const current = result.body;
        if (current.status !== job.dataset.status || completedStages(current.stages.map(s => s.state)) !== shown) {
            location.reload();
            return;
        }
        const bar = document.querySelector("#job-progress .progress-bar");
        if (bar) {
            bar.style.width = `${current.progress}%`;
            document.querySelector("#job-progress .progress-message").textContent =
                `${current.currentStage ?? ""} ${Math.round(current.progress)}% — ${current.progressMessage ?? ""}`;
        }
    }, 2000);
})();
