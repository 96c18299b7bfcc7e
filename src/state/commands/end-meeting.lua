--[[
An end was sent and its server took it: the meeting reads as ended (as BBB shows it until it is
destroyed) until the next poll that no longer finds it forgets it. Until that poll, the server
already counts without it: its measured load and participants lose the meeting's, and its
reservation leaves the server's sums (an ended meeting will not grow into it). Placement has the
room at once, and the scaler sees the lesson end when it ends, not one poll round later. The
next poll writes the server's own figures over these. Once only: a second end changes nothing.
KEYS[1] meeting hash  KEYS[2] server's reservations hash  KEYS[3] server hash
ARGV[1] ref  ARGV[2] serverId  ARGV[3] endedAt (ms)  ARGV[4] info JSON ('' for none)
Returns 1 when it marked the meeting ended, 0 when it was gone, elsewhere or already ended.
]]
--@include release-reservation

local m = redis.call('HMGET', KEYS[1], 'server', 'endedAt', 'measuredLoad', 'participants')
if m[1] ~= ARGV[2] or m[2] then return 0 end
redis.call('HSET', KEYS[1], 'endedAt', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'info', ARGV[4]) end

local s = redis.call('HMGET', KEYS[3], 'measuredLoad', 'participants')
if s[1] then
  redis.call('HSET', KEYS[3],
    'measuredLoad', string.format('%.17g', math.max(0, (tonumber(s[1]) or 0) - (tonumber(m[3]) or 0))),
    'participants', math.max(0, (tonumber(s[2]) or 0) - (tonumber(m[4]) or 0)))
end
releaseReservation(KEYS[2], KEYS[3], ARGV[1])
return 1
