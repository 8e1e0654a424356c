// Calls the API the pages are built on: JSON in and out, problem details on errors. The X-Requested-With header marks
// the call as the pages' own, which is what lets the browser's key cookie authorize a state-changing call.
"use strict";
window.modelopt = {
    async request(url, options = {}) {
        const response = await fetch(url, { ...options, headers: { Accept: "application/json", "X-Requested-With": "ModelOpt", ...(options.headers || {}) } });
        const type = response.headers.get("Content-Type") || "";
        const body = type.includes("json") ? await response.json() : await response.text();
        return { ok: response.ok, status: response.status, body };
    },
    problemText(problem) {
        if (typeof problem === "string") return problem;
        const details = problem.errors ? Object.values(problem.errors).flat().join(" ") : "";
        return [problem.title, problem.detail, details].filter(Boolean).join(": ");
    },
    finished: ["Succeeded", "Failed", "Cancelled"],
};
