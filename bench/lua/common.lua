-- Appended to every bench script.

-- Each wrk thread gets a number (1, 2, …) as the global ``id``, so that scripts can give each
-- thread its own line of a file.
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("id", thread_counter)
end

function line_of_thread(path)
  local n = 0
  for line in io.lines(path) do
    n = n + 1
    if n == id then
      return line
    end
  end
  error(path .. " has no line " .. id)
end

-- One machine-readable line with the figures the harness reads.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, ' ..
    '"p50_us": %.0f, "p95_us": %.0f, "p99_us": %.0f, "max_us": %.0f, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
