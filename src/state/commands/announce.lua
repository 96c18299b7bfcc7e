--[[
Records a meeting announced by its create (state/announcements.ts): replaces the meeting's
earlier announcement, then stores the new one unless it would break one of its tenant's caps:
  - the count of its stored announcements (ARGV[9]);
  - the participants its announcements add up to at any instant of the new one's span
    (ARGV[8]): an announcement over it is not stored (the create itself goes on).
Also drops the announcements that have ended (the pool's, and the tenant's index of its own),
and pushes the keys' expiry past the furthest end an announcement may have.

KEYS[1] announced zset (keys.ts announced)    KEYS[2] announced-data hash (announcedData)
KEYS[3] the tenant's announced zset (tenantAnnounced)
ARGV[1] meeting ref   ARGV[2] start (ms)   ARGV[3] span end used for the cap (ms)
ARGV[4] participants  ARGV[5] data (JSON)  ARGV[6] now (ms)
ARGV[7] maximum span (ms): an announcement that started this long ago has ended
ARGV[8] participant cap  ARGV[9] count cap  ARGV[10] the keys' expiry (ms)
ARGV[11] assumed span (ms) of a stored announcement that has no end

Returns {1} when stored; {0, 'count', n} or {0, 'participants', peak already announced}.
]]
--@include announced
local pool, data, tenant = KEYS[1], KEYS[2], KEYS[3]
local ref = ARGV[1]
local start, spanEnd = tonumber(ARGV[2]), tonumber(ARGV[3])
local participants = tonumber(ARGV[4])
local now, maxSpan = tonumber(ARGV[6]), tonumber(ARGV[7])
local cap, maxCount, ttl, assumed = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])

pruneAnnounced(pool, data, now - maxSpan)
pruneAnnounced(tenant, false, now - maxSpan)
-- Idempotent per meeting: a second create replaces the first announcement, never adds to it.
redis.call('ZREM', pool, ref)
redis.call('ZREM', tenant, ref)
redis.call('HDEL', data, ref)

local count = redis.call('ZCARD', tenant)
if count >= maxCount then return { 0, 'count', count } end

-- The tenant's announcements running during [start, spanEnd): the highest sum at any instant.
local changes = {}
local refs = redis.call('ZRANGEBYSCORE', tenant, start - maxSpan, '(' .. spanEnd)
if #refs > 0 then
  local values = announcedData(data, refs)
  for i = 1, #refs do
    local value = values[i]
    local ok, a = false, nil
    if value then ok, a = pcall(cjson.decode, value) end
    if ok and type(a) == 'table' and type(a.startsAt) == 'number' and type(a.participants) == 'number' then
      local e = a.endsAt
      if type(e) ~= 'number' then e = a.startsAt + assumed end
      if a.startsAt < spanEnd and e > start then
        table.insert(changes, { math.max(a.startsAt, start), a.participants })
        table.insert(changes, { math.min(e, spanEnd), -a.participants })
      end
    else
      -- Its data went with a prune of the pool's set: gone from the tenant's index too.
      redis.call('ZREM', tenant, refs[i])
    end
  end
end
-- Ends before starts at one instant: a meeting ending at 9:00 and one starting then do not overlap.
table.sort(changes, function(x, y)
  if x[1] ~= y[1] then return x[1] < y[1] end
  return x[2] < y[2]
end)
local running, peak = 0, 0
for _, c in ipairs(changes) do
  running = running + c[2]
  if running > peak then peak = running end
end
if peak + participants > cap then return { 0, 'participants', peak } end

redis.call('ZADD', pool, start, ref)
redis.call('ZADD', tenant, start, ref)
redis.call('HSET', data, ref, ARGV[5])
for _, key in ipairs({ pool, data, tenant }) do redis.call('PEXPIRE', key, ttl) end
return { 1 }
