--[[
Counts join attempts into meetings atomically and returns what the admission decision
(policy/admission.ts, pure) needs. The attempts a gateway receives in one turn of its event
loop come in one call, counted in order, exactly as if each had come alone; one call for many
keeps Redis and the gateway from paying a script call per join.
An attempt is counted before the decision, so concurrent joins each see the others already
counted: the gateway takes the count back (ZREM) when the decision refuses.

Participants = polled participants + joins counted since (pending), until the poll shows the
user inside, the poll window passes, or the entry expires.

Per attempt i: KEYS meeting hash, inside set (userIDs the last poll saw), pending zset;
ARGV member (userID, or a one-off id for anonymous joins), '1' when it is a real userID.
ARGV[1] now  ARGV[2] pending TTL (ms)

Returns one line per attempt: '' for an unknown meeting, else tab-separated
server, participants, cameras, pendingIncludingThis, inside (0|1), alreadyPending (0|1),
maxParticipants, moderatorMargin, moderatorPW
]]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local out = {}

for i = 0, #KEYS / 3 - 1 do
  local meeting, inside, pending = KEYS[i * 3 + 1], KEYS[i * 3 + 2], KEYS[i * 3 + 3]
  local member, named = ARGV[3 + i * 2], ARGV[4 + i * 2] == '1'
  local m = redis.call('HMGET', meeting, 'server', 'participants', 'cameras', 'maxParticipants', 'moderatorMargin', 'moderatorPW')
  if not m[1] then
    out[#out + 1] = ''
  else
    redis.call('ZREMRANGEBYSCORE', pending, '-inf', now - ttl)
    local isInside = 0
    local already = 0
    if named and redis.call('SISMEMBER', inside, member) == 1 then isInside = 1 end
    if isInside == 0 then
      -- ZADD answers 0 when the member was there already: admitted moments ago, a rejoin.
      if redis.call('ZADD', pending, now, member) == 0 then
        already = 1
      else
        redis.call('PEXPIRE', pending, ttl * 2)
      end
    end
    out[#out + 1] = table.concat({m[1], m[2] or 0, m[3] or 0, redis.call('ZCARD', pending), isInside, already,
      m[4] or 0, m[5] or 0, m[6] or ''}, '\t')
  end
end
return table.concat(out, '\n')
