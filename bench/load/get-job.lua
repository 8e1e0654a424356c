-- wrk: GET /api/jobs/{MODELOPT_JOB} with the bench's API key (env MODELOPT_KEY).
wrk.method = "GET"
wrk.path = "/api/jobs/" .. os.getenv("MODELOPT_JOB")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MODELOPT_KEY")

function done(summary, latency, requests)
  io.write(string.format("p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
