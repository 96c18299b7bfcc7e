--[[
Counts join attempts into meetings atomically and returns what the admission decision
(policy/admission.ts, pure) needs. The attempts a gateway receives in one turn of its event
loop come in one call, counted in order, exactly as if each had come alone; one call for many
keeps Redis and the gateway from paying a script call per join.
An attempt is counted before the decision, so concurrent joins each see the others already
counted: the gateway takes the count back (ZREM) when the decision refuses.

Participants = polled participants + joins counted since (pending), until the poll shows the
user inside, the poll window passes, or the entry expires. The same holds for a tenant with a
participant quota, over all its meetings: its polled participants (one field per server) + its
joins counted since.

Per attempt i: KEYS meeting hash, inside set (userIDs the last poll saw), pending zset, and for a
tenant with a participant quota 2 more: tenant-usage hash, tenant-pending zset;
ARGV member (userID, or an id derived from the signed URL for anonymous joins), '1' when it is a
real userID, the entry in the tenant-pending zset ('' when the tenant has no participant quota:
then the attempt has 3 KEYS).
ARGV[1] now  ARGV[2] pending TTL (ms)

Returns one line per attempt: '' for an unknown or ended meeting, else tab-separated
server, participants, cameras, pendingIncludingThis, inside (0|1), alreadyPending (0|1),
maxParticipants, moderatorMargin, moderatorPW, and with a tenant quota: tenantParticipants,
tenantPendingIncludingThis
]]
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local out = {}
-- A tenant's polled participants, summed once per call: one batch often holds many of its joins.
local tenantPolled = {}
local k = 1

for i = 0, (#ARGV - 2) / 3 - 1 do
  local meeting, inside, pending = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local member, named, tenantMember = ARGV[3 + i * 3], ARGV[4 + i * 3] == '1', ARGV[5 + i * 3]
  local usage, tenantPending
  if tenantMember == '' then
    k = k + 3
  else
    usage, tenantPending = KEYS[k + 3], KEYS[k + 4]
    k = k + 5
  end
  local m = redis.call('HMGET', meeting, 'server', 'participants', 'cameras', 'maxParticipants', 'moderatorMargin', 'moderatorPW', 'endedAt')
  -- An ended meeting takes no one in, as BBB refuses joins once a meeting is ended.
  if not m[1] or m[7] then
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
    local line = {m[1], m[2] or 0, m[3] or 0, redis.call('ZCARD', pending), isInside, already, m[4] or 0, m[5] or 0, m[6] or ''}
    if usage then
      redis.call('ZREMRANGEBYSCORE', tenantPending, '-inf', now - ttl)
      -- A rejoin takes no new seat, of the meeting or of the tenant.
      if isInside == 0 and already == 0 then
        redis.call('ZADD', tenantPending, now, tenantMember)
        redis.call('PEXPIRE', tenantPending, ttl * 2)
      end
      local polled = tenantPolled[usage]
      if polled == nil then
        polled = 0
        for _, v in ipairs(redis.call('HVALS', usage)) do polled = polled + tonumber(v) end
        tenantPolled[usage] = polled
      end
      line[#line + 1] = polled
      line[#line + 1] = redis.call('ZCARD', tenantPending)
    end
    out[#out + 1] = table.concat(line, '\t')
  end
end
return table.concat(out, '\n')
