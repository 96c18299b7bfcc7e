--[[
Takes a lease, or extends it when the caller already holds it: a poller replica keeps the
servers it polls from one round to the next, and the others skip them until it stops renewing.
KEYS[1] lock key   ARGV[1] owner   ARGV[2] ttl (ms)
Returns 1 when the caller holds the lease afterwards, 0 when someone else does.
]]
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
