-- Counts one request in the fixed rate-limit window of `key` (the semantics of
-- @fastify/rate-limit's Redis store: the first request of a window starts its clock).
-- Returns the count in the window including this request, and the ms until the window ends.
local function windowCount(key, window)
  local current = redis.call('INCR', key)
  local ttl = window
  if current == 1 then
    redis.call('PEXPIRE', key, window)
  else
    ttl = redis.call('PTTL', key)
    -- A key left without expiry (written by something else) would never reset.
    if ttl < 0 then
      redis.call('PEXPIRE', key, window)
      ttl = window
    end
  end
  return current, ttl
end
