-- wrk script for bench/run.sh. Settings come from the environment:
--   BENCH_KEY       client key (bearer token)
--   BENCH_SCENARIO  has_permission | has_permission_scoped | user_permissions | which_users_can | add | remove
--                   (has_permission_scoped: at a random document of the full dataset, document:0 … document:88899)
--   BENCH_USERS, BENCH_PERMS, BENCH_ROLES   dataset sizes (names are user<i>, perm<i>, role<i>)
--   BENCH_OUT       file to append one result line to
-- Reads pick a random user / permission of the dataset per request. Writes use a user that no other request
-- uses (w<thread>_<n>), so every add really inserts; `remove` walks the same sequence, so it deletes what `add`
-- inserted. Write responses are checked, and only those that changed something (`"created":true` /
-- `"removed":true`) are counted as writes.

local key = os.getenv("BENCH_KEY")
local scenario = os.getenv("BENCH_SCENARIO")
local users = tonumber(os.getenv("BENCH_USERS"))
local perms = tonumber(os.getenv("BENCH_PERMS"))
local roles = tonumber(os.getenv("BENCH_ROLES"))
local out = os.getenv("BENCH_OUT")

local threads = {}
local next_tid = 1

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

function init(args)
  n = 0
  changed = 0
  math.randomseed(tid * 7919 + os.time())
  headers = { ["Authorization"] = "Bearer " .. key }
end

function request()
  n = n + 1
  if scenario == "has_permission" then
    return wrk.format("GET", "/api/has_permission/user" .. math.random(0, users - 1) .. "/perm" ..
      math.random(0, perms - 1), headers)
  elseif scenario == "has_permission_scoped" then
    return wrk.format("GET", "/api/has_permission/user" .. math.random(0, users - 1) .. "/perm" ..
      math.random(0, perms - 1) .. "?resource=document:" .. math.random(0, 88899), headers)
  elseif scenario == "user_permissions" then
    return wrk.format("GET", "/api/user_permissions/user" .. math.random(0, users - 1), headers)
  elseif scenario == "which_users_can" then
    return wrk.format("GET", "/api/which_users_can/perm" .. math.random(0, perms - 1), headers)
  elseif scenario == "add" then
    return wrk.format("POST", "/api/membership/w" .. tid .. "_" .. n .. "/role" .. (n % roles), headers)
  elseif scenario == "remove" then
    return wrk.format("DELETE", "/api/membership/w" .. tid .. "_" .. n .. "/role" .. (n % roles), headers)
  end
end

if scenario == "add" or scenario == "remove" then
  function response(status, hdrs, body)
    if body:find('"created":true', 1, true) or body:find('"removed":true', 1, true) then
      changed = changed + 1
    end
  end
end

function done(summary, latency, requests)
  local writes = 0
  for _, t in ipairs(threads) do
    writes = writes + (t:get("changed") or 0)
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local line = string.format(
    "scenario=%s requests=%d seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d writes=%d writes_per_s=%.0f",
    scenario, summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, writes, writes / seconds)
  io.write(line .. "\n")
  if out then
    local f = io.open(out, "a")
    f:write(line .. "\n")
    f:close()
  end
end
