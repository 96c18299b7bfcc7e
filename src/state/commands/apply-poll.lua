--[[
Writes one successful poll of a server: its measured counters, each meeting's measured load
(which lowers what the meeting still reserves), re-pins meetings Redis does not know (the
store rebuilds itself after a data loss), and forgets meetings the server no longer runs —
except young ones not ended, whose create may still be in flight when the poll was taken.

KEYS[1] server hash  KEYS[2] reservations hash  KEYS[3] server-meetings set  KEYS[4] meetings index
KEYS[5..] per polled meeting, in ARGV order: meeting hash, inside set, pending-joins zset
ARGV[1] now  ARGV[2] grace (ms)  ARGV[3] fade (ms)  ARGV[4] serverId  ARGV[5] online-after
ARGV[6] server fields JSON (measured totals)  ARGV[7] pool key prefix
ARGV[8] pending window (ms): joins admitted longer ago than this are in the poll's counts by now
ARGV[9..] per polled meeting 10 values: ref, tenant, meetingID, upstreamID, createTime, measuredLoad,
          info (the meeting as getMeetings described it, JSON: answers getMeetingInfo from state),
          participants, cameras, userIDs inside (JSON array)

Returns {repinned, forgotten, healthAfter, stateAfter}
]]
local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local fade = tonumber(ARGV[3])
local serverId = ARGV[4]
local onlineAfter = tonumber(ARGV[5])
local prefix = ARGV[7]
local pendingWindow = tonumber(ARGV[8])

if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 'gone', 'gone'} end

local fields = cjson.decode(ARGV[6])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, tostring(v)) end
redis.call('HSET', KEYS[1], 'polledAt', now, 'failures', 0, 'lastError', '')
local successes = redis.call('HINCRBY', KEYS[1], 'successes', 1)
local health = redis.call('HGET', KEYS[1], 'health')
if health ~= 'online' and successes >= onlineAfter then
  health = 'online'
  redis.call('HSET', KEYS[1], 'health', 'online')
end

-- A disabled (or panicked) server's meetings are not adopted again: operators took it out.
local adopt = redis.call('HGET', KEYS[1], 'state') ~= 'disabled'
local seen = {}
local repinned = 0
-- What join admission reads: live counts, who is inside, joins not yet visible in the counts.
local function liveCounts(i, a)
  local key, inside, pending = KEYS[5 + i * 3], KEYS[6 + i * 3], KEYS[7 + i * 3]
  redis.call('HSET', key, 'participants', ARGV[a + 7], 'cameras', ARGV[a + 8])
  redis.call('DEL', inside)
  local users = cjson.decode(ARGV[a + 9])
  for j = 1, #users, 500 do
    redis.call('SADD', inside, unpack(users, j, math.min(j + 499, #users)))
    redis.call('ZREM', pending, unpack(users, j, math.min(j + 499, #users)))
  end
  redis.call('ZREMRANGEBYSCORE', pending, '-inf', now - pendingWindow)
end

local n = (#ARGV - 8) / 10
for i = 0, n - 1 do
  local a = 9 + i * 10
  local ref, key = ARGV[a], KEYS[5 + i * 3]
  seen[ref] = true
  local owner = redis.call('HGET', key, 'server')
  if not owner and adopt then
    redis.call('HSET', key, 'server', serverId, 'tenant', ARGV[a + 1], 'meetingID', ARGV[a + 2],
      'upstreamID', ARGV[a + 3], 'createdAt', ARGV[a + 4], 'reserved', 0, 'status', 'running',
      'measuredLoad', ARGV[a + 5], 'seenAt', now, 'info', ARGV[a + 6])
    redis.call('SADD', KEYS[4], ref)
    redis.call('SADD', KEYS[3], ref)
    liveCounts(i, a)
    repinned = repinned + 1
  elseif owner == serverId then
    redis.call('HSET', key, 'status', 'running', 'measuredLoad', ARGV[a + 5], 'seenAt', now, 'info', ARGV[a + 6])
    liveCounts(i, a)
    local r = redis.call('HGET', KEYS[2], ref)
    if r then
      local reserved, t = string.match(r, '^([^|]+)|([^|]+)|')
      if now - tonumber(t) >= fade then
        redis.call('HDEL', KEYS[2], ref)
      else
        redis.call('HSET', KEYS[2], ref, reserved .. '|' .. t .. '|' .. ARGV[a + 5])
      end
    end
  end
end

local forgotten = 0
for _, ref in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if not seen[ref] then
    local key = prefix .. 'meeting:' .. ref
    local m = redis.call('HMGET', key, 'createdAt', 'server', 'endedAt')
    local created = tonumber(m[1]) or 0
    if m[2] ~= serverId then
      redis.call('SREM', KEYS[3], ref)
      redis.call('HDEL', KEYS[2], ref)
    elseif now - created > grace or m[3] then
      -- Gone from the server: forgotten once past the grace, or at once if it was ended.
      redis.call('DEL', key, prefix .. 'inside:' .. ref, prefix .. 'pending:' .. ref)
      redis.call('SREM', KEYS[3], ref)
      redis.call('SREM', KEYS[4], ref)
      redis.call('HDEL', KEYS[2], ref)
      forgotten = forgotten + 1
    end
  end
end

local state = redis.call('HGET', KEYS[1], 'state')
if state == 'cordoned' and redis.call('SCARD', KEYS[3]) == 0 then
  state = 'disabled'
  redis.call('HSET', KEYS[1], 'state', 'disabled')
end
return {repinned, forgotten, health, state}
