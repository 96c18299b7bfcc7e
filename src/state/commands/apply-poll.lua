--[[
Writes one successful poll of a server: its measured counters, each meeting's measured load
(which lowers what the meeting still reserves), the server's reservation sums rebuilt (see
place-meeting.lua), each tenant's participants on the server, re-pins meetings Redis does not
know with the limits they were created with (the store rebuilds itself after a data loss), and
forgets meetings the server no longer runs — except young ones not ended, whose create may still
be in flight when the poll was taken. A meeting ended after the poll was asked (endedAt later
than ARGV[11]) is left as the end wrote it, and taken out of the server's figures again. Each
meeting keeps the most participants and cameras any poll saw in it (peakParticipants,
peakCameras); a meeting forgotten that its tenant's default
profile sized (profileSource 'tenant': no profile, no hint asked) and that anyone joined leaves
its peaks in the tenant's tenant-sizes list, newest first (policy/size-estimate.ts reads them).

KEYS[1] server hash  KEYS[2] reservations hash  KEYS[3] server-meetings set  KEYS[4] meetings index
KEYS[5] server-tenants set (tenants with a field for this server in their tenant-usage hash)
then per tenant (4 keys): tenant-meetings set, tenant-usage hash, tenant-pending zset, tenant-sizes list
then per polled meeting (3 keys): meeting hash, inside set, pending-joins zset
then per meeting of the server-meetings set the poll did not list (3 keys): the same
ARGV[1] now  ARGV[2] grace (ms)  ARGV[3] fade (ms)  ARGV[4] serverId  ARGV[5] online-after
ARGV[6] server fields JSON (measured totals)
ARGV[7] pending window (ms): joins admitted longer ago than this are in the poll's counts by now
ARGV[8] tenant count  ARGV[9] polled meeting count  ARGV[10] entries a tenant-sizes list keeps
ARGV[11] when getMeetings was asked: a meeting a live read described later (liveAt, written by
         refresh-meeting.lua) keeps those newer counts, users inside and info
then per tenant 2 values: name, its participants on this server (every tenant of the meetings
     below, and every tenant of the server-tenants set)
then per polled meeting 14 values: ref, tenant, meetingID, upstreamID, createTime, measuredLoad,
     info (the meeting as getMeetings described it, JSON: answers getMeetingInfo from state),
     participants, cameras, userIDs inside (JSON array),
     profile, maxParticipants, moderatorMargin, moderatorPW (its limits; all '' when unknown)
then per unlisted meeting 3 values: ref, tenant, meetingID

Returns {repinned, forgotten, healthAfter, stateAfter}
]]
--@include users-inside

local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local fade = tonumber(ARGV[3])
local serverId = ARGV[4]
local onlineAfter = tonumber(ARGV[5])
local pendingWindow = tonumber(ARGV[7])
local tenantCount = tonumber(ARGV[8])
local meetingCount = tonumber(ARGV[9])
local sizeSamples = tonumber(ARGV[10])
local askedAt = tonumber(ARGV[11])

if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 'gone', 'gone'} end

-- The server's measured counters, written once the meetings below are read: one an end reached
-- after the poll asked comes out of them.
local fields = cjson.decode(ARGV[6])
redis.call('HSET', KEYS[1], 'polledAt', now, 'failures', 0, 'lastError', '')
local successes = redis.call('HINCRBY', KEYS[1], 'successes', 1)
local health = redis.call('HGET', KEYS[1], 'health')
if health ~= 'online' and successes >= onlineAfter then
  health = 'online'
  redis.call('HSET', KEYS[1], 'health', 'online')
end

-- Each tenant's field for this server is overwritten, and deleted at zero, so the sum of a
-- tenant-usage hash is always what the last polls saw.
local tenants = {}
for j = 0, tenantCount - 1 do
  local name, participants = ARGV[12 + j * 2], tonumber(ARGV[13 + j * 2])
  local t = {meetings = KEYS[6 + j * 4], usage = KEYS[7 + j * 4], pending = KEYS[8 + j * 4], sizes = KEYS[9 + j * 4]}
  -- Only a tenant with a participant quota has pending joins to drop.
  t.tracked = redis.call('EXISTS', t.pending) == 1
  tenants[name] = t
  if participants > 0 then
    redis.call('HSET', t.usage, serverId, participants)
    redis.call('SADD', KEYS[5], name)
  else
    redis.call('HDEL', t.usage, serverId)
    redis.call('SREM', KEYS[5], name)
  end
end

-- Drops joins of a meeting from its tenant's pending joins (entries: meetingID,member).
local function untrack(t, meetingID, members)
  local entries = {}
  for j = 1, #members do entries[j] = meetingID .. ',' .. members[j] end
  for j = 1, #entries, 500 do redis.call('ZREM', t.pending, unpack(entries, j, math.min(j + 499, #entries))) end
end

-- A disabled (or panicked) server's meetings are not adopted again: operators took it out.
local adopt = redis.call('HGET', KEYS[1], 'state') ~= 'disabled'
local repinned = 0
local keyBase = 5 + tenantCount * 4
local argBase = 12 + tenantCount * 2

-- A live read (refresh-meeting.lua, liveAt) newer than this poll's question already wrote fresher
-- counts, users inside and info: an older snapshot would forget the users it saw enter.
local function liveIsNewer(m) return (tonumber(m[4]) or 0) > askedAt end

-- What join admission reads: live counts, who is inside, joins not yet visible in the counts;
-- and the meeting's peaks (m: its HMGET server, peakParticipants, peakCameras, liveAt, endedAt).
local function liveCounts(i, a, t, m)
  local key, inside, pending = KEYS[keyBase + 1 + i * 3], KEYS[keyBase + 2 + i * 3], KEYS[keyBase + 3 + i * 3]
  local participants, cameras = tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8])
  redis.call('HSET', key, 'peakParticipants', math.max(participants, tonumber(m[2]) or 0), 'peakCameras', math.max(cameras, tonumber(m[3]) or 0))
  if liveIsNewer(m) then return end
  redis.call('HSET', key, 'participants', participants, 'cameras', cameras)
  local users = cjson.decode(ARGV[a + 9])
  setUsersInside(inside, pending, users)
  if t.tracked then
    untrack(t, ARGV[a + 2], users)
    untrack(t, ARGV[a + 2], redis.call('ZRANGEBYSCORE', pending, '-inf', now - pendingWindow))
  end
  redis.call('ZREMRANGEBYSCORE', pending, '-inf', now - pendingWindow)
end

local function writeLimits(key, a)
  if ARGV[a + 11] == '' then return end
  redis.call('HSET', key, 'profile', ARGV[a + 10], 'maxParticipants', ARGV[a + 11],
    'moderatorMargin', ARGV[a + 12], 'moderatorPW', ARGV[a + 13])
end

-- What this poll measured of each meeting of the server, for its reservation.
local measured = {}
for i = 0, meetingCount - 1 do
  local a = argBase + i * 14
  local ref, key, t = ARGV[a], KEYS[keyBase + 1 + i * 3], tenants[ARGV[a + 1]]
  local m = redis.call('HMGET', key, 'server', 'peakParticipants', 'peakCameras', 'liveAt', 'endedAt')
  local owner = m[1]
  if (tonumber(m[5]) or -math.huge) > askedAt then
    -- An end reached it after the poll asked: end-meeting.lua already took it off the server (and
    -- released its reservation), and this older picture would put it back until the next poll.
    -- Nothing of it is written, and the server's counters lose it again.
    fields.measuredLoad = math.max(0, (tonumber(fields.measuredLoad) or 0) - (tonumber(ARGV[a + 5]) or 0))
    fields.participants = math.max(0, (tonumber(fields.participants) or 0) - (tonumber(ARGV[a + 7]) or 0))
  elseif not owner and adopt then
    redis.call('HSET', key, 'server', serverId, 'tenant', ARGV[a + 1], 'meetingID', ARGV[a + 2],
      'upstreamID', ARGV[a + 3], 'createdAt', ARGV[a + 4], 'reserved', 0, 'status', 'running',
      'measuredLoad', ARGV[a + 5], 'seenAt', now, 'info', ARGV[a + 6])
    writeLimits(key, a)
    redis.call('SADD', KEYS[4], ref)
    redis.call('SADD', KEYS[3], ref)
    redis.call('SADD', t.meetings, ref)
    liveCounts(i, a, t, m)
    repinned = repinned + 1
  elseif owner == serverId then
    redis.call('HSET', key, 'status', 'running', 'measuredLoad', ARGV[a + 5], 'seenAt', now)
    if not liveIsNewer(m) then redis.call('HSET', key, 'info', ARGV[a + 6]) end
    -- Repairs what a lost write left out: the tenant's set, limits when the create's own
    -- record of them is missing (a duplicate create re-placed it after a data loss).
    redis.call('SADD', t.meetings, ref)
    if redis.call('HEXISTS', key, 'maxParticipants') == 0 then writeLimits(key, a) end
    liveCounts(i, a, t, m)
    measured[ref] = ARGV[a + 5]
  end
end
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, tostring(v)) end

local forgotten = 0
keyBase = keyBase + meetingCount * 3
argBase = argBase + meetingCount * 14
for u = 0, (#ARGV - argBase + 1) / 3 - 1 do
  local a = argBase + u * 3
  local ref = ARGV[a]
  local key, inside, pending = KEYS[keyBase + 1 + u * 3], KEYS[keyBase + 2 + u * 3], KEYS[keyBase + 3 + u * 3]
  if redis.call('SISMEMBER', KEYS[3], ref) == 1 then
    local m = redis.call('HMGET', key, 'createdAt', 'server', 'endedAt', 'profileSource', 'profile', 'peakParticipants', 'peakCameras')
    local created = tonumber(m[1]) or 0
    if m[2] ~= serverId then
      redis.call('SREM', KEYS[3], ref)
      redis.call('HDEL', KEYS[2], ref)
    elseif now - created > grace or m[3] then
      -- Gone from the server: forgotten once past the grace, or at once if it was ended.
      local t = tenants[ARGV[a + 1]]
      if t.tracked then untrack(t, ARGV[a + 2], redis.call('ZRANGE', pending, 0, -1)) end
      -- What it became, if nobody said beforehand (keys.ts tenantSizeSample). A meeting nobody
      -- joined says nothing about size.
      local peak = tonumber(m[6]) or 0
      if m[4] == 'tenant' and m[5] and peak > 0 then
        redis.call('LPUSH', t.sizes, peak .. '|' .. (tonumber(m[7]) or 0) .. '|' .. m[5] .. '|' .. ARGV[1])
        redis.call('LTRIM', t.sizes, 0, sizeSamples - 1)
      end
      redis.call('DEL', key, inside, pending)
      redis.call('SREM', KEYS[3], ref)
      redis.call('SREM', KEYS[4], ref)
      redis.call('SREM', t.meetings, ref)
      redis.call('HDEL', KEYS[2], ref)
      forgotten = forgotten + 1
    end
  end
end

-- The server's reservation sums rebuilt from its reservations hash, as placement/reservations.ts
-- sumReservations does: faded ones dropped, ones measured in full kept but not counted (a later
-- poll may measure less of them), the others counted. Rebuilding at every poll also clears the
-- rounding the placements' and forgets' additions leave.
local sumR, sumRT, sumM, untilT = 0, 0, 0, math.huge
local entries = redis.call('HGETALL', KEYS[2])
for j = 1, #entries, 2 do
  local ref = entries[j]
  local r, rt, was, counted = string.match(entries[j + 1], '^([^|]*)|([^|]*)|([^|]*)|?([^|]*)$')
  local m = measured[ref] or was
  local reserved, created = tonumber(r), tonumber(rt)
  local age = now - created
  if age >= fade then
    redis.call('HDEL', KEYS[2], ref)
  else
    local value = tonumber(m)
    local fate = '0'
    if reserved * (1 - math.max(0, age) / fade) - value > 0 then
      fate = '1'
      sumR, sumRT, sumM = sumR + reserved, sumRT + reserved * created, sumM + value
      untilT = math.min(untilT, created + fade * (1 - value / reserved))
    end
    if fate ~= counted or m ~= was then redis.call('HSET', KEYS[2], ref, r .. '|' .. rt .. '|' .. m .. '|' .. fate) end
  end
end
if untilT == math.huge then
  redis.call('HDEL', KEYS[1], 'resvReserved', 'resvReservedAt', 'resvMeasured', 'resvUntil')
else
  redis.call('HSET', KEYS[1], 'resvReserved', string.format('%.17g', sumR), 'resvReservedAt', string.format('%.17g', sumRT),
    'resvMeasured', string.format('%.17g', sumM), 'resvUntil', string.format('%.17g', untilT))
end

local state = redis.call('HGET', KEYS[1], 'state')
if state == 'cordoned' and redis.call('SCARD', KEYS[3]) == 0 then
  state = 'disabled'
  redis.call('HSET', KEYS[1], 'state', 'disabled', 'stateSince', now)
end
return {repinned, forgotten, health, state}
