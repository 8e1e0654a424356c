// The new-job form: builds the request POST /api/jobs takes, shows the API's validation messages by field, and uploads a
// checkpoint through POST /api/checkpoints.
"use strict";
(() => {
    const form = document.getElementById("new-job");
    const field = id => document.getElementById(id);
    const errorSlots = [...form.querySelectorAll(".field-error")];

    function showErrors(problem) {
        for (const slot of errorSlots) slot.textContent = "";
        const errors = problem.errors || { "": [modelopt.problemText(problem)] };
        for (const [key, messages] of Object.entries(errors)) {
            const slot = errorSlots.find(s => s.dataset.for === key) || errorSlots.find(s => s.dataset.for === "");
            slot.textContent = [slot.textContent, ...messages].filter(Boolean).join(" ");
        }
    }

    // An empty field is left out of the request, so the API's default applies.
    const number = id => field(id).value === "" ? undefined : Number(field(id).value);

    field("checkpointId").addEventListener("change", () => {
        const model = field("checkpointId").selectedOptions[0].dataset.model;
        if (model) field("model").value = model;
    });

    field("upload-checkpoint").addEventListener("click", async () => {
        const file = field("checkpoint-file").files[0];
        if (!file) {
            showErrors({ errors: { file: ["Choose a checkpoint file first."] } });
            return;
        }
        const data = new FormData();
        data.append("file", file);
        // An .onnx file carries its own architecture; the API refuses a model beside it.
        if (!file.name.toLowerCase().endsWith(".onnx")) data.append("model", field("model").value);
        field("upload-status").textContent = "uploading…";
        const result = await modelopt.request("/api/checkpoints", { method: "POST", body: data });
        field("upload-status").textContent = "";
        if (!result.ok) {
            showErrors(result.body.errors ? result.body : { errors: { file: [modelopt.problemText(result.body)] } });
            return;
        }
        const option = new Option(`${result.body.fileName} · ${result.body.model ?? "no model checked"} · just uploaded · sha256 ${result.body.sha256.slice(0, 8)} · id …${result.body.id.replaceAll("-", "").slice(-12)}`, result.body.id, true, true);
        option.dataset.model = result.body.model ?? "";
        field("checkpointId").add(option, 1);
        field("upload-status").textContent = `stored, SHA-256 ${result.body.sha256.slice(0, 12)}…`;
    });

    form.addEventListener("submit", async event => {
        event.preventDefault();
        const request = {
            // An ONNX checkpoint ("onnx:<file>") names its own architecture.
            model: (field("checkpointId").selectedOptions[0].dataset.model || "").startsWith("onnx:") ? undefined : field("model").value,
            dataset: field("dataset").value,
            checkpointId: field("checkpointId").value || null,
            quantization: { activationObserver: field("activationObserver").value, calibrationImages: number("calibrationImages") },
            evaluation: { testSubset: number("testSubset") },
            qat: { enabled: field("qatEnabled").checked },
            output: { task: field("task").value || undefined },
        };
        // Training settings apply only to a job that trains; with a checkpoint they are left out.
        if (!request.checkpointId) request.training = { epochs: number("epochs"), trainSubset: number("trainSubset") };
        const result = await modelopt.request("/api/jobs", {
            method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request),
        });
        if (result.ok) {
            location.assign(`/jobs/${result.body.id}`);
            return;
        }
        showErrors(result.body);
    });
})();
