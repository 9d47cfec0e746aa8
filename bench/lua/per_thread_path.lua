-- POST to BENCH_PATH_PREFIX .. <line <thread id> of BENCH_IDS_FILE> .. BENCH_PATH_SUFFIX:
-- each wrk thread (one connection each) works on its own row.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  local n = 0
  for line in io.lines(os.getenv("BENCH_IDS_FILE")) do
    n = n + 1
    if n == id then
      row = line
    end
  end
  path = os.getenv("BENCH_PATH_PREFIX") .. row .. os.getenv("BENCH_PATH_SUFFIX")
end

function request()
  return wrk.format("POST", path)
end
