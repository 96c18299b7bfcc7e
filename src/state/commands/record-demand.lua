--[[
Records the pool's demand in its time bucket for the scaler's weekly profile (scaler/history.ts).
One member per bucket, scored by the bucket's start: {"at":…,"total":…,"byClass":{…}}. A bucket
that already has a sample keeps the maximum, the total and each class on its own, so scaler
replicas recording at once lose nothing and the bucket holds its peak. Then trims the buckets
older than the retention and pushes the key's expiry back (a pool no scaler records for any more
does not keep its history forever).

KEYS[1] demand history zset (keys.ts demandHistory)
ARGV[1] bucket start (ms)  ARGV[2] total  ARGV[3] byClass (JSON object, class → load)
ARGV[4] oldest bucket start kept (ms)  ARGV[5] retention (ms, the key's expiry)

Returns the bucket's sample after the write (JSON).
]]
local key = KEYS[1]
local bucket = tonumber(ARGV[1])
local total = tonumber(ARGV[2])
local byClass = cjson.decode(ARGV[3])
for _, member in ipairs(redis.call('ZRANGEBYSCORE', key, bucket, bucket)) do
  local ok, old = pcall(cjson.decode, member)
  if ok and type(old) == 'table' then
    if type(old.total) == 'number' and old.total > total then total = old.total end
    if type(old.byClass) == 'table' then
      for cls, load in pairs(old.byClass) do
        if type(load) == 'number' and (byClass[cls] == nil or load > byClass[cls]) then byClass[cls] = load end
      end
    end
  end
  redis.call('ZREM', key, member)
end
local sample = cjson.encode({ at = bucket, total = total, byClass = byClass })
redis.call('ZADD', key, bucket, sample)
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[4])
redis.call('PEXPIRE', key, ARGV[5])
return sample
