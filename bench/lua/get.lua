-- GET the URL given to wrk, with an optional bearer token (BENCH_AUTH).
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end
