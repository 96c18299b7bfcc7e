--[[
Moves a room owner (tenant, sub) and all their rooms to another tenant (`amphi owners move`,
state/rooms.ts), in one step. The caller read the rooms and their forecast announcements and
built their new values (JSON is rewritten in TypeScript, where it decodes losslessly: cjson
would round 15-digit dates, and the caller refuses a room it cannot decode before calling, so
nothing is half-moved). Here each value is compared with what the caller read: when the
owner's rooms, a room or an announcement changed meanwhile, nothing is written and the caller
reads again. Links name rooms, not tenants: they keep working. Each new room value remembers
the tenant it left (meetingTenant): a meeting it runs stays where it runs.

KEYS[1] the owner's rooms zset in the old tenant (ownerRooms)   KEYS[2] the same in the new one
KEYS[3] the old tenant's rooms zset (tenantRooms)   KEYS[4] the new tenant's
KEYS[5] the old tenant's owners set (tenantOwners)   KEYS[6] the new tenant's
KEYS[7] the sub's tenants set (subTenants)
KEYS[8] announced zset (announced)   KEYS[9] announced-data hash (announcedData)
KEYS[10] the old tenant's announced zset (tenantAnnounced)   KEYS[11] the new tenant's
KEYS[12..] the rooms (room), in the order of the room groups below
ARGV[1] sub   ARGV[2] old tenant   ARGV[3] new tenant   ARGV[4] the announced keys' expiry (ms)
ARGV[5..] per room, 7 values: id, its JSON as read, its new JSON, its old meeting ref, its new
  meeting ref, its announcement data as read ('' for none), its new announcement data ('' to
  drop it)

Returns the number of rooms moved; -1 when something changed: read again; -2 when the new
tenant already has an owner with this sub (no merge).
]]
local fromOwner, toOwner, fromRooms, toRooms = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local fromOwners, toOwners, subTenants = KEYS[5], KEYS[6], KEYS[7]
local announced, announcedData, fromAnnounced, toAnnounced = KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local sub, from, to, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local GROUP = 7
local count = (#ARGV - 4) / GROUP

if redis.call('ZCARD', toOwner) > 0 then return -2 end
if count < 1 or redis.call('ZCARD', fromOwner) ~= count then return -1 end
-- Check everything before writing anything.
for i = 1, count do
  local a = 4 + (i - 1) * GROUP
  if not redis.call('ZSCORE', fromOwner, ARGV[a + 1]) then return -1 end
  if redis.call('GET', KEYS[11 + i]) ~= ARGV[a + 2] then return -1 end
  local data = redis.call('HGET', announcedData, ARGV[a + 4])
  if (data or '') ~= ARGV[a + 6] then return -1 end
end

for i = 1, count do
  local a = 4 + (i - 1) * GROUP
  local id, newJson, oldRef, newRef, oldData, newData = ARGV[a + 1], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  redis.call('SET', KEYS[11 + i], newJson)
  local score = redis.call('ZSCORE', fromOwner, id)
  redis.call('ZREM', fromRooms, id)
  redis.call('ZADD', toRooms, score, id)
  redis.call('ZADD', toOwner, score, id)
  if oldData ~= '' then
    -- The room's forecast follows it: announced under its new tenant, out of the old one's caps.
    local start = redis.call('ZSCORE', announced, oldRef)
    redis.call('ZREM', announced, oldRef)
    redis.call('ZREM', fromAnnounced, oldRef)
    redis.call('HDEL', announcedData, oldRef)
    if start and newData ~= '' then
      redis.call('ZADD', announced, start, newRef)
      redis.call('ZADD', toAnnounced, start, newRef)
      redis.call('HSET', announcedData, newRef, newData)
      for _, key in ipairs({ announced, announcedData, toAnnounced }) do redis.call('PEXPIRE', key, ttl) end
    end
  end
end
redis.call('DEL', fromOwner)
redis.call('SREM', fromOwners, sub)
redis.call('SADD', toOwners, sub)
redis.call('SREM', subTenants, from)
redis.call('SADD', subTenants, to)
return count
