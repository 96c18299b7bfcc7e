--[[
Folds a batch of load observations into the pool's learned load model (placement/learned-weights.ts):
the stored sums are decayed by exp(-Δt / τ) since they were last decayed, then the batch's sums
are added. Atomic, so poller replicas folding at once each add their own observations and none
is lost or counted twice. Each server behind the batch is stamped `seen:<id>` = now (the fit
needs several servers behind it); stamps older than ARGV[4] are dropped.

KEYS[1] learned load model hash (keys.ts calibration): fields `sums` (comma-separated), `at` (ms), `seen:<server>` (ms)
ARGV[1] now (ms)  ARGV[2] τ (ms)  ARGV[3] the batch's sums (comma-separated, same length)
ARGV[4] how long a server's stamp is kept (ms)  ARGV[5..] the batch's server ids

Returns the sums after the fold (comma-separated).
]]
local key = KEYS[1]
local now = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local batch = {}
for v in string.gmatch(ARGV[3], '[^,]+') do batch[#batch + 1] = tonumber(v) end

local stored = redis.call('HMGET', key, 'sums', 'at')
local old = {}
if stored[1] and stored[2] then
  for v in string.gmatch(stored[1], '[^,]+') do old[#old + 1] = tonumber(v) end
end
local at = tonumber(stored[2] or '')
local decay = 0
if #old == #batch and at then
  decay = 1
  if now > at then decay = math.exp(-(now - at) / tau) end
end

local out = {}
for i = 1, #batch do
  local v = batch[i] + decay * (old[i] or 0)
  -- %.17g keeps every bit of a double through the text form.
  out[i] = string.format('%.17g', v)
end
local sums = table.concat(out, ',')
local newAt = now
if at and at > now then newAt = at end
redis.call('HSET', key, 'sums', sums, 'at', string.format('%.17g', newAt))
for i = 5, #ARGV do redis.call('HSET', key, 'seen:' .. ARGV[i], string.format('%.17g', now)) end
local fields = redis.call('HGETALL', key)
local oldest = now - tonumber(ARGV[4])
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 5) == 'seen:' and tonumber(fields[i + 1]) < oldest then redis.call('HDEL', key, fields[i]) end
end
return sums
