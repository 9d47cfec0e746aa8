-- POST to BENCH_PATH_PREFIX .. <line <thread id> of BENCH_IDS_FILE> .. BENCH_PATH_SUFFIX:
-- each wrk thread (one connection each) works on its own row.
function init(args)
  local row = line_of_thread(os.getenv("BENCH_IDS_FILE"))
  path = os.getenv("BENCH_PATH_PREFIX") .. row .. os.getenv("BENCH_PATH_SUFFIX")
end

function request()
  return wrk.format("POST", path)
end
