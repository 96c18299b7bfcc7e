--[[
Gives back one use of a join link whose join was refused (state/rooms.ts); never below zero,
and nothing for a link that is gone.

KEYS[1] the link (keys.ts roomLink)
Returns the uses left counted.
]]
local uses = tonumber(redis.call('HGET', KEYS[1], 'uses'))
if not uses or uses <= 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], 'uses', -1)
