--[[
Counts one failed poll; the server goes offline after `offline-after` failures in a row. An
offline server's meetings are gone for the gateway, so their participants stop counting
against their tenants' quotas.
KEYS[1] server hash  KEYS[2] server-tenants set  KEYS[3..] tenant-usage hash of each tenant in it
ARGV[1] now  ARGV[2] offline-after  ARGV[3] error text  ARGV[4] serverId  ARGV[5..] those tenants, in KEYS order
Returns the health after the update.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'successes', 0, 'lastError', ARGV[3], 'failedAt', ARGV[1])
local health = redis.call('HGET', KEYS[1], 'health')
if failures >= tonumber(ARGV[2]) then
  health = 'offline'
  redis.call('HSET', KEYS[1], 'health', 'offline')
end
if health == 'offline' then
  for i = 3, #KEYS do
    redis.call('HDEL', KEYS[i], ARGV[4])
    redis.call('SREM', KEYS[2], ARGV[i + 2])
  end
end
return health
