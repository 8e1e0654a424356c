// Calls the API the pages are built on: JSON in and out, problem details on errors.
"use strict";
window.modelopt = {
    async request(url, options = {}) {
        // X-Requested-With: with an API key in the page's cookie, the API accepts state changes only from these scripts.
        const headers = { Accept: "application/json", "X-Requested-With": "ModelOpt", ...(options.headers || {}) };
        const response = await fetch(url, { ...options, headers });
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
