-- Refresh tokens are single-use: each wrk thread (run with one connection per thread, so
-- requests on it are strictly sequential) starts from its own token, line <thread id> of
-- BENCH_TOKENS_FILE, and sends the token each response returns with the next request.
function init(args)
  token = line_of_thread(os.getenv("BENCH_TOKENS_FILE"))
  path = os.getenv("BENCH_PATH")
end

function request()
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" },
    '{"refresh_token": "' .. token .. '"}')
end

function response(status, headers, body)
  if status == 200 then
    local next_token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if next_token then
      token = next_token
    end
  end
end
