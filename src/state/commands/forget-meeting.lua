--[[
Forgets a meeting's placement (ended, or its create failed upstream) if it is still on the
given server, so a late call never removes a newer placement of the same meeting ID.
KEYS[1] meeting hash  KEYS[2] meetings index  KEYS[3] server-meetings set  KEYS[4] reservations hash
KEYS[5] inside set  KEYS[6] pending-joins zset  KEYS[7] tenant-meetings set  KEYS[8] tenant-pending zset
KEYS[9] server hash (its reservation sums, see place-meeting.lua)
ARGV[1] ref  ARGV[2] serverId  ARGV[3] meetingID
]]
--@include release-reservation

if redis.call('HGET', KEYS[1], 'server') ~= ARGV[2] then return 0 end
-- Its pending joins no longer count against the tenant either (entries: meetingID,member).
local pending = redis.call('ZRANGE', KEYS[6], 0, -1)
for j = 1, #pending do pending[j] = ARGV[3] .. ',' .. pending[j] end
for j = 1, #pending, 500 do redis.call('ZREM', KEYS[8], unpack(pending, j, math.min(j + 499, #pending))) end
redis.call('DEL', KEYS[1], KEYS[5], KEYS[6])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[7], ARGV[1])

-- Its reservation leaves the server's sums.
releaseReservation(KEYS[4], KEYS[9], ARGV[1])
return 1
