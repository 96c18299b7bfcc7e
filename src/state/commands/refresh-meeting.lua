--[[
Writes what a live getMeetingInfo said of one meeting (a gateway asked its server), so that join
admission and the polled state see the users who entered at once, not a poll later. Only while
the meeting is still placed on that server: a late answer never overwrites a newer placement.
The live counts are the ones apply-poll.lua writes for each polled meeting (users-inside.lua).

KEYS[1] meeting hash  KEYS[2] inside set  KEYS[3] pending-joins zset
ARGV[1] serverId  ARGV[2] info (JSON, tenant-local meetingID)  ARGV[3] participants  ARGV[4] cameras
ARGV[5] userIDs inside (JSON array)  ARGV[6] now (liveAt: a poll asked before it leaves these alone)

Returns 1 when written, 0 when the meeting is no longer on that server.
]]
--@include users-inside

if redis.call('HGET', KEYS[1], 'server') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'info', ARGV[2], 'participants', ARGV[3], 'cameras', ARGV[4], 'liveAt', ARGV[6])
setUsersInside(KEYS[2], KEYS[3], cjson.decode(ARGV[5]))
return 1
