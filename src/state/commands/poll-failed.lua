--[[
Counts one failed poll; the server goes offline after `offline-after` failures in a row.
KEYS[1] server hash   ARGV[1] now  ARGV[2] offline-after  ARGV[3] error text
Returns the health after the update.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'successes', 0, 'lastError', ARGV[3], 'failedAt', ARGV[1])
if failures >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'health', 'offline')
  return 'offline'
end
return redis.call('HGET', KEYS[1], 'health')
