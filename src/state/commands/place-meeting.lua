--[[
Places a meeting on the first candidate that still fits on live counters, and reserves its
expected load there, in one atomic step: N gateways placing concurrently never over-commit.
The tenant's quotas are checked in the same step and the meeting counts against them at once,
so concurrent creates of one tenant never exceed them either.

KEYS[1]  meeting hash            KEYS[2]  meetings index (set of refs)
KEYS[3]  tenant-meetings set     KEYS[4]  tenant-usage hash (server id -> polled participants)
KEYS[5]  tenant-pending zset (joins admitted since the polls)
then per candidate i (3 keys):   server hash, reservations hash, server-meetings set
ARGV[1] now (ms)  ARGV[2] fade (ms)  ARGV[3] need (units)  ARGV[4] sampled count
ARGV[5] meeting ref  ARGV[6] tenant  ARGV[7] meetingID  ARGV[8] upstreamID  ARGV[9] extra JSON
ARGV[10] tenant maxMeetings  ARGV[11] tenant maxParticipants (each 0: no quota)  ARGV[12] pending TTL (ms)
ARGV[13] fill ceiling: a server fits while its load stays within this share of its capacity
ARGV[14..] candidate server ids, in the order the pure ranking chose

The reservation goes into the chosen server's reservations hash as
`reserved|createdAt|measured|counted` ('1' while counted in the sums) and into its running sums,
fields of its server hash: resvReserved = Σ reserved, resvReservedAt = Σ reserved × createdAt,
resvMeasured = Σ measured, resvUntil = the earliest fade end (placement/reservations.ts;
apply-poll.lua rebuilds them at each poll, forget-meeting.lua takes a meeting out).

Returns {'existing', serverId} | {'quota', 'maxMeetings' | 'maxParticipants'}
      | {'placed', serverId, headroom} | {'overcommitted', serverId, headroom} | {'none'}
]]
local now = tonumber(ARGV[1])
local fade = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local sampled = tonumber(ARGV[4])
local maxFill = tonumber(ARGV[13])

local existing = redis.call('HGET', KEYS[1], 'server')
if existing then return {'existing', existing} end

-- Quotas (policy/tenants.ts quotaRefusal words them): one more meeting must fit, and the
-- tenant must have a seat left for it (polled participants plus joins admitted since).
local maxMeetings, maxParticipants = tonumber(ARGV[10]), tonumber(ARGV[11])
if maxMeetings > 0 and redis.call('SCARD', KEYS[3]) + 1 > maxMeetings then return {'quota', 'maxMeetings'} end
if maxParticipants > 0 then
  local participants = redis.call('ZCOUNT', KEYS[5], '(' .. (now - tonumber(ARGV[12])), '+inf')
  for _, v in ipairs(redis.call('HVALS', KEYS[4])) do participants = participants + tonumber(v) end
  if participants >= maxParticipants then return {'quota', 'maxParticipants'} end
end

-- Live headroom of candidate i, or nil when it cannot take meetings. One HMGET however many
-- meetings the server holds: what they still reserve comes from the server's reservation sums
-- (see the header), by placement/reservations.ts reservedLoad.
local function headroom(i)
  local s = redis.call('HMGET', KEYS[3 + i * 3], 'capacity', 'measuredLoad', 'state', 'health',
    'resvReserved', 'resvReservedAt', 'resvMeasured', 'resvUntil')
  if s[3] ~= 'enabled' or s[4] ~= 'online' then return nil end
  local load = tonumber(s[2]) or 0
  local r = tonumber(s[5])
  if r then
    local unfaded = r - tonumber(s[7])
    load = load + math.max(0, math.min(unfaded, unfaded - (r * math.min(now, tonumber(s[8])) - tonumber(s[6])) / fade))
  end
  return (tonumber(s[1]) or 0) * maxFill - load
end

local count = #ARGV - 13
local chosen, chosenRoom, best, bestRoom = nil, nil, nil, nil
for i = 1, count do
  local room = headroom(i)
  if room then
    if best == nil or room > bestRoom then best, bestRoom = i, room end
    if room >= need then
      if i <= sampled then
        -- Among the random sample, the one with the most live headroom wins.
        if chosen == nil or room > chosenRoom then chosen, chosenRoom = i, room end
      elseif chosen == nil then
        chosen, chosenRoom = i, room
        break
      end
    end
  end
  if i == sampled and chosen ~= nil then break end
end

local outcome = 'placed'
if chosen == nil then
  if best == nil then return {'none'} end
  chosen, chosenRoom, outcome = best, bestRoom, 'overcommitted'
end

local base = 5 + (chosen - 1) * 3
local serverId = ARGV[13 + chosen]
redis.call('HSET', KEYS[1], 'server', serverId, 'tenant', ARGV[6], 'meetingID', ARGV[7],
  'upstreamID', ARGV[8], 'createdAt', now, 'reserved', need, 'status', 'creating', 'extra', ARGV[9])
if outcome == 'overcommitted' then redis.call('HSET', KEYS[1], 'overcommitted', 1) end
redis.call('SADD', KEYS[2], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('SADD', KEYS[base + 3], ARGV[5])
redis.call('HSET', KEYS[base + 2], ARGV[5], ARGV[3] .. '|' .. ARGV[1] .. '|0|1')
-- reservations.ts addReservation
local t = redis.call('HMGET', KEYS[base + 1], 'resvReserved', 'resvReservedAt', 'resvMeasured', 'resvUntil')
redis.call('HSET', KEYS[base + 1], 'resvReserved', string.format('%.17g', (tonumber(t[1]) or 0) + need),
  'resvReservedAt', string.format('%.17g', (tonumber(t[2]) or 0) + need * now), 'resvMeasured', t[3] or '0',
  'resvUntil', string.format('%.17g', math.min(tonumber(t[4]) or math.huge, now + fade)))
return {outcome, serverId, tostring(chosenRoom)}
