--[[
Adds a join link to a room (state/rooms.ts), if the room exists and keeps fewer than ARGV[4]
links once the purged ones are dropped. A link hash expires at its purge time (some days after
the link itself: it still reads as expired, not unknown, meanwhile).

KEYS[1] the room (keys.ts room)   KEYS[2] its links zset (roomLinks)   KEYS[3] the link (roomLink)
ARGV[1] link id   ARGV[2] purge time (ms)   ARGV[3] now (ms)   ARGV[4] most links per room
ARGV[5..] the link's hash, field value field value …

Returns {1}; {0, 'roomGone'}; {0, 'tooMany'}; {0, 'exists'} (an ID drawn twice).
]]
local room, links, link = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', room) == 0 then return { 0, 'roomGone' } end
redis.call('ZREMRANGEBYSCORE', links, '-inf', ARGV[3])
if redis.call('ZCARD', links) >= tonumber(ARGV[4]) then return { 0, 'tooMany' } end
if redis.call('EXISTS', link) == 1 then return { 0, 'exists' } end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', link, unpack(fields))
redis.call('PEXPIREAT', link, ARGV[2])
redis.call('ZADD', links, ARGV[2], ARGV[1])
return { 1 }
