--[[
Counts one join attempt into a meeting atomically and returns what the admission decision
(policy/admission.ts, pure) needs. The attempt is counted before the decision, so concurrent
joins each see the others already counted: the gateway takes the count back (ZREM) when
the decision refuses. N gateways admitting at once never let more in than the limit.

Participants = polled participants + joins counted since (pending), until the poll shows the
user inside, the poll window passes, or the entry expires.

KEYS[1] meeting hash  KEYS[2] inside set (userIDs the last poll saw)  KEYS[3] pending zset
ARGV[1] now  ARGV[2] pending TTL (ms)  ARGV[3] member (userID, or a one-off id for anonymous joins)
ARGV[4] '1' when the member is a real userID (so it may already be inside or pending)

Returns '' for an unknown meeting, else one line per value (one bulk string: cheaper for the
client to read than an array, and this runs for every join):
server, participants, cameras, pendingIncludingThis, inside (0|1), alreadyPending (0|1),
maxParticipants, moderatorMargin, moderatorPW
]]
local m = redis.call('HMGET', KEYS[1], 'server', 'participants', 'cameras', 'maxParticipants', 'moderatorMargin', 'moderatorPW')
if not m[1] then return '' end

local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local member = ARGV[3]
local named = ARGV[4] == '1'

redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - ttl)
local inside = 0
local already = 0
if named and redis.call('SISMEMBER', KEYS[2], member) == 1 then inside = 1 end
if inside == 0 then
  -- ZADD answers 0 when the member was there already: admitted moments ago, a rejoin.
  if redis.call('ZADD', KEYS[3], now, member) == 0 then
    already = 1
  else
    redis.call('PEXPIRE', KEYS[3], ttl * 2)
  end
end
return table.concat({m[1], m[2] or 0, m[3] or 0, redis.call('ZCARD', KEYS[3]), inside, already,
  m[4] or 0, m[5] or 0, m[6] or ''}, '\n')
