--[[
Replaces a room's data (state/rooms.ts) when it still exists with the owner and tenant the
caller read: a room moved to another tenant meanwhile (`amphi owners move`) is not written back
under the old one.

KEYS[1] the room (keys.ts room)
ARGV[1] new room JSON   ARGV[2] expected owner   ARGV[3] expected tenant

Returns 1 when written, 0 when the room is gone or moved.
]]
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local ok, room = pcall(cjson.decode, current)
if not ok or type(room) ~= 'table' or room.owner ~= ARGV[2] or room.tenant ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
