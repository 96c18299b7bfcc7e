--[[
Creates a teacher's room (state/rooms.ts). Its owner is the pair (tenant, sub): the owner's
first room registers the sub among the tenant's owners (and the tenant among the sub's), so the
same sub in another tenant is someone else. Refused over the owner's room cap, or the tenant's
room or owner caps (a service token names owners freely: Redis must stay bounded).

KEYS[1] the room (keys.ts room)                   KEYS[2] the owner's rooms zset (ownerRooms)
KEYS[3] the tenant's rooms zset (tenantRooms)     KEYS[4] the tenant's owners set (tenantOwners)
KEYS[5] the sub's tenants set (subTenants)
ARGV[1] owner sub   ARGV[2] tenant   ARGV[3] room id   ARGV[4] room JSON   ARGV[5] createdAt (ms)
ARGV[6] most rooms per owner   ARGV[7] most rooms per tenant   ARGV[8] most owners per tenant

Returns {1}; {0, 'tooMany'} (the owner's cap); {0, 'tenantRooms'}; {0, 'tenantOwners'};
{0, 'exists'} (an ID drawn twice).
]]
local room, ownerRooms, tenantRooms, tenantOwners, subTenants = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local owner, tenant, id = ARGV[1], ARGV[2], ARGV[3]

local owned = redis.call('ZCARD', ownerRooms)
if owned >= tonumber(ARGV[6]) then return { 0, 'tooMany' } end
if redis.call('ZCARD', tenantRooms) >= tonumber(ARGV[7]) then return { 0, 'tenantRooms' } end
-- Only a new owner counts against the owner cap.
if owned == 0 and redis.call('SISMEMBER', tenantOwners, owner) == 0 and redis.call('SCARD', tenantOwners) >= tonumber(ARGV[8]) then
  return { 0, 'tenantOwners' }
end
if redis.call('EXISTS', room) == 1 then return { 0, 'exists' } end

redis.call('SET', room, ARGV[4])
redis.call('ZADD', ownerRooms, ARGV[5], id)
redis.call('ZADD', tenantRooms, ARGV[5], id)
redis.call('SADD', tenantOwners, owner)
redis.call('SADD', subTenants, tenant)
return { 1 }
