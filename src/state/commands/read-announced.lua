--[[
The announcements that may run during [from, to] (state/announcements.ts): those that start by
`to` and started at most the maximum span before `from`; the caller keeps those whose end is
after `from`. First drops those that have ended.

KEYS[1] announced zset (keys.ts announced)   KEYS[2] announced-data hash (announcedData)
ARGV[1] now (ms)  ARGV[2] maximum span (ms)  ARGV[3] from (ms)  ARGV[4] to (ms)  ARGV[5] most returned

Returns the announcements' data (JSON strings), by start.
]]
--@include announced
local pool, data = KEYS[1], KEYS[2]
local maxSpan = tonumber(ARGV[2])
pruneAnnounced(pool, data, tonumber(ARGV[1]) - maxSpan)
local refs = redis.call('ZRANGEBYSCORE', pool, tonumber(ARGV[3]) - maxSpan, tonumber(ARGV[4]), 'LIMIT', 0, tonumber(ARGV[5]))
if #refs == 0 then return {} end
local out = {}
local values = announcedData(data, refs)
for i = 1, #refs do
  if values[i] then table.insert(out, values[i]) end
end
return out
