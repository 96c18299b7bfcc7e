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

The client address's rate-limit window is counted first, in the same call (a join would
otherwise wait for two Redis round trips): an attempt over its limit is not counted at all.

Per attempt i: KEYS meeting hash, inside set (userIDs the last poll saw), pending zset, then the
address's rate-limit window when limited, then for a tenant with a participant quota:
tenant-usage hash, tenant-pending zset;
ARGV member (userID, or an id derived from the signed URL for anonymous joins), '1' when it is a
real userID, the entry in the tenant-pending zset ('' when the tenant has no participant quota),
the address's limit as 'max/window ms' ('' when the address is not limited).
ARGV[1] now  ARGV[2] pending TTL (ms)

Returns one line per attempt: 'limited<TAB>ms until the window ends' for an address over its
limit, '' for an unknown or ended meeting, else tab-separated
server, participants, cameras, pendingIncludingThis, inside (0|1), alreadyPending (0|1),
maxParticipants, moderatorMargin, moderatorPW, and with a tenant quota: tenantParticipants,
tenantPendingIncludingThis
]]
--@include window-count

local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local out = {}
-- A tenant's polled participants, summed once per call: one batch often holds many of its joins.
local tenantPolled = {}
local k = 1

for i = 0, (#ARGV - 2) / 4 - 1 do
  local meeting, inside, pending = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local a = 3 + i * 4
  local member, named, tenantMember, addressLimit = ARGV[a], ARGV[a + 1] == '1', ARGV[a + 2], ARGV[a + 3]
  k = k + 3
  local limitedFor
  if addressLimit ~= '' then
    local max, window = string.match(addressLimit, '^(%d+)/(%d+)$')
    local current, left = windowCount(KEYS[k], tonumber(window))
    if current > tonumber(max) then limitedFor = left end
    k = k + 1
  end
  local usage, tenantPending
  if tenantMember ~= '' then
    usage, tenantPending = KEYS[k], KEYS[k + 1]
    k = k + 2
  end
  -- (not read for an attempt over its address's limit)
  local m = limitedFor == nil and redis.call('HMGET', meeting, 'server', 'participants', 'cameras', 'maxParticipants', 'moderatorMargin', 'moderatorPW', 'endedAt')
  if limitedFor ~= nil then
    out[#out + 1] = 'limited\t' .. limitedFor
  -- An ended meeting takes no one in, as BBB refuses joins once a meeting is ended.
  elseif not m[1] or m[7] then
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
