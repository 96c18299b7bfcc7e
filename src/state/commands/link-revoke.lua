--[[
Revokes a join link of a room (state/rooms.ts); the link stays listed, as revoked.

KEYS[1] the link (keys.ts roomLink)
ARGV[1] the room id it must belong to
Returns 1 revoked (or already), 0 no such link in that room.
]]
if redis.call('HGET', KEYS[1], 'room') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'revoked', '1')
return 1
