--[[
Admits one join to a meeting against its capacity at the live camera count, atomically, and
counts it: N gateways admitting joins at once never let more in than the curve allows.
Participants = polled participants + joins admitted since (pending, until the poll shows the
user inside or the entry expires). A user already inside, or already admitted, always passes.

KEYS[1] meeting hash  KEYS[2] inside set (userIDs the last poll saw)  KEYS[3] pending zset
ARGV[1] now  ARGV[2] pending TTL (ms)  ARGV[3] userID ('' = anonymous: always a new user)
ARGV[4] '1' for a moderator  ARGV[5] seats kept for moderators  ARGV[6] anonymous member id
ARGV[7..] the curve as a table: max participants with 0, 1, 2, … cameras; beyond it, none

Returns {'unknown'} | {'ok', server, count, limit} | {'full', server, count, limit}
]]
local m = redis.call('HMGET', KEYS[1], 'server', 'participants', 'cameras', 'maxParticipants')
local server = m[1]
if not server then return {'unknown'} end

local userID = ARGV[3]
if userID ~= '' and redis.call('SISMEMBER', KEYS[2], userID) == 1 then return {'ok', server, -1, -1} end

local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[2]))
if userID ~= '' and redis.call('ZSCORE', KEYS[3], userID) then
  redis.call('ZADD', KEYS[3], now, userID)
  return {'ok', server, -1, -1}
end

local cameras = tonumber(m[3]) or 0
local curveLen = #ARGV - 6
local limit = 0
if cameras < curveLen then limit = tonumber(ARGV[7 + cameras]) end
local own = tonumber(m[4]) or 0
if own > 0 and own < limit then limit = own end
-- Viewers stop short of the seats kept for moderators.
if ARGV[4] ~= '1' then limit = limit - tonumber(ARGV[5]) end

local count = (tonumber(m[2]) or 0) + redis.call('ZCARD', KEYS[3])
if count >= limit then return {'full', server, count, limit} end
local member = userID
if member == '' then member = ARGV[6] end
redis.call('ZADD', KEYS[3], now, member)
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[2]) * 2)
return {'ok', server, count + 1, limit}
