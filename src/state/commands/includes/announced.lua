-- Shared by announce.lua and read-announced.lua (state/announcements.ts).

-- Drops the announcements that started before `before` (ms) from an announced zset and, when
-- `data` is given, their data from the announced-data hash. An announcement lasts at most the
-- gateway's maximum span, so one that started that long ago has ended. At most 500 a call:
-- the rest go on the next.
local function pruneAnnounced(zset, data, before)
  local old = redis.call('ZRANGEBYSCORE', zset, '-inf', '(' .. before, 'LIMIT', 0, 500)
  if #old == 0 then return 0 end
  if data then redis.call('HDEL', data, unpack(old)) end
  redis.call('ZREM', zset, unpack(old))
  return #old
end

-- HMGET of many fields, in slices (unpack has a stack limit); nil where a field is missing.
local function announcedData(data, refs)
  local values = {}
  for first = 1, #refs, 1000 do
    local last = math.min(first + 999, #refs)
    local got = redis.call('HMGET', data, unpack(refs, first, last))
    for i = 1, last - first + 1 do values[first + i - 1] = got[i] end
  end
  return values
end
