#!/usr/bin/python3
"""The ModelOpt side of scripts/bench-notebook.sh's API mode: submits one job (POST /api/jobs with the request JSON given),
polls GET /api/jobs/{id} every 0.1 s to its end, writes the job's JSON to OUT.json and prints its timings: elapsed as the
API reports it (started -> finished), wall time from the POST to the terminal status seen, the queue wait, each stage's
duration and its gap to the next stage, and every form's row; with TIMELINE=1 also each progress message as the poll saw
it change (as often as the worker writes progress: ModelOpt:Worker:PollInterval).

  bench_notebook_api.py BASE_URL REQUEST_JSON OUT.json
"""
import datetime
import json
import os
import sys
import time
import urllib.request

base, request, path = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
def call(url, body=None):
    req = urllib.request.Request(base + url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as response:
        return json.load(response)
start = time.perf_counter()
job = call("/api/jobs", request)
timeline = []  # (seconds since the POST, progress message) at each change the poll sees
while job["status"] not in ("Succeeded", "Failed", "Cancelled"):
    time.sleep(0.1)
    job = call(f"/api/jobs/{job['id']}")
    message = f"{job.get('currentStage')}: {job.get('progressMessage')}"
    if not timeline or timeline[-1][1] != message:
        timeline.append((time.perf_counter() - start, message))
wall = time.perf_counter() - start
json.dump(job, open(path, "w"), indent=1)
if job["status"] != "Succeeded":
    sys.exit(f"job {job['status']}: {job.get('error')}")
at = lambda text: datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
print(f"ModelOpt job {job['id']}: elapsed {job['elapsedMs'] / 1000:.2f} s (started -> finished); wall {wall:.2f} s (POST -> Succeeded seen); "
      f"queued {(at(job['startedAt']) - at(job['createdAt'])).total_seconds():.2f} s")
stages = job["stages"]
for i, s in enumerate(stages):
    gap = (at(stages[i + 1]["startedAt"]) - at(s["completedAt"])).total_seconds() if i + 1 < len(stages) else (at(job["finishedAt"]) - at(s["completedAt"])).total_seconds()
    print(f"  {s['stage']:<13} {s['durationMs'] / 1000:6.2f} s   then {gap:5.2f} s to the {'next stage' if i + 1 < len(stages) else 'job end'}")
for s in stages:
    for r in s["results"]:
        accuracy = "   -    " if r["accuracy"] is None else f"{100 * r['accuracy']:6.2f} %"
        print(f"  {s['stage']:<13} {'*' if r['selected'] else ' '} {r['backend']:<30} {accuracy} {r['latencyMeanMs']:8.2f} ± {r['latencyStdMs']:.2f} ms  {r['note'] or ''}")
if os.environ.get("TIMELINE") == "1":
    for seconds, message in timeline:
        print(f"  {seconds:7.2f} s  {message}")
