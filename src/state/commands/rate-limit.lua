--[[
Counts requests in fixed rate-limit windows (the semantics of @fastify/rate-limit's Redis
store: the first request of a window starts its clock), for every request a gateway received in
one turn of its event loop, in arrival order, as if each had come alone.

KEYS one window key per request (keys.ts rateLimit: client address or tenant)
ARGV[1] window (ms)

Returns one line per request: count in the window including this one, tab, ms until it ends.
]]
local window = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local current = redis.call('INCR', KEYS[i])
  local ttl = window
  if current == 1 then
    redis.call('PEXPIRE', KEYS[i], window)
  else
    ttl = redis.call('PTTL', KEYS[i])
    -- A key left without expiry (written by something else) would never reset.
    if ttl < 0 then
      redis.call('PEXPIRE', KEYS[i], window)
      ttl = window
    end
  end
  out[i] = current .. '\t' .. ttl
end
return table.concat(out, '\n')
