--[[
Takes one use of a join link (state/rooms.ts), atomically: of maxUses concurrent uses, exactly
maxUses get through. Refused when the link is unknown, revoked, expired or used up, or its room
is gone.

KEYS[1] the link (keys.ts roomLink)   KEYS[2] its room (room), as the caller read the link
ARGV[1] the room id the caller read   ARGV[2] now (ms)

Returns {1, room JSON, link fields…} (HGETALL after the use); {0, reason}; {-1} when the link
names another room than ARGV[1] (cannot happen: a link never changes room).
]]
local link, room = KEYS[1], KEYS[2]
local h = redis.call('HMGET', link, 'room', 'expiresAt', 'maxUses', 'uses', 'revoked')
if not h[1] then return { 0, 'invalid' } end
if h[1] ~= ARGV[1] then return { -1 } end
if h[5] == '1' then return { 0, 'revoked' } end
if (tonumber(h[2]) or 0) <= tonumber(ARGV[2]) then return { 0, 'expired' } end
if h[3] and h[3] ~= '' and tonumber(h[4]) >= tonumber(h[3]) then return { 0, 'usedUp' } end
local data = redis.call('GET', room)
if not data then return { 0, 'roomGone' } end
redis.call('HINCRBY', link, 'uses', 1)
local out = { 1, data }
local fields = redis.call('HGETALL', link)
for i = 1, #fields do out[#out + 1] = fields[i] end
return out
