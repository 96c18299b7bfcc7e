--[[
Gives back leases, each only if the caller still holds it: a poller replica that stops hands
its servers to the others at once instead of after the lease's time-to-live.
KEYS lock keys   ARGV[1] owner
Returns how many leases were released.
]]
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    released = released + 1
  end
end
return released
