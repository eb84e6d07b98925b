-- wrk script for bench/run. Environment:
--   BENCH_PATH     the path to request (/modify, /read, /none)
--   BENCH_COOKIES  a file of `name=value` cookies, one per line, used round-robin
--                  (so in-flight requests rarely share a session)
--   BENCH_COOKIE   one fixed Cookie header (the garbage-cookie scenario)
local path = os.getenv("BENCH_PATH") or "/"
local file = os.getenv("BENCH_COOKIES")
local fixed = os.getenv("BENCH_COOKIE")
local cookies = {}
local i = 0
if file and file ~= "" then
  for line in io.lines(file) do cookies[#cookies + 1] = line end
end

request = function()
  if #cookies > 0 then
    i = i % #cookies + 1
    return wrk.format("GET", path, { ["Cookie"] = cookies[i] })
  end
  if fixed and fixed ~= "" then
    return wrk.format("GET", path, { ["Cookie"] = fixed })
  end
  return wrk.format("GET", path)
end
