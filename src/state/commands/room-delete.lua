--[[
Deletes a room and its links (state/rooms.ts), given the link IDs the caller read: when the
room's link set no longer matches them (a link added meanwhile), nothing is deleted and the
caller reads again. An owner whose last room goes is no owner any more: out of the tenant's
owners (its cap) and the tenant out of the sub's tenants.

KEYS[1] the room (keys.ts room)   KEYS[2] its links zset (roomLinks)
KEYS[3] the owner's rooms zset (ownerRooms)   KEYS[4] the tenant's rooms zset (tenantRooms)
KEYS[5] the tenant's owners set (tenantOwners)   KEYS[6] the sub's tenants set (subTenants)
KEYS[7..] the links (roomLink), in the order of ARGV[4..]
ARGV[1] room id   ARGV[2] expected owner   ARGV[3] expected tenant   ARGV[4..] link ids

Returns 1 deleted; 0 no such room (or it moved); -1 the links changed: read again.
]]
local room, links, ownerRooms, tenantRooms, tenantOwners, subTenants = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, owner, tenant = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('GET', room)
if not current then return 0 end
local ok, data = pcall(cjson.decode, current)
if ok and type(data) == 'table' and (data.owner ~= owner or data.tenant ~= tenant) then return 0 end

local count = #ARGV - 3
if redis.call('ZCARD', links) ~= count then return -1 end
for i = 1, count do
  if not redis.call('ZSCORE', links, ARGV[i + 3]) then return -1 end
end
for i = 1, count do redis.call('DEL', KEYS[i + 6]) end
redis.call('DEL', room, links)
redis.call('ZREM', ownerRooms, id)
redis.call('ZREM', tenantRooms, id)
if redis.call('ZCARD', ownerRooms) == 0 then
  redis.call('SREM', tenantOwners, owner)
  redis.call('SREM', subTenants, tenant)
end
return 1
