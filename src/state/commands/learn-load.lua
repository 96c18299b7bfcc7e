--[[
Folds a batch of load observations into the pool's learned load model (placement/learned-weights.ts):
the stored sums are decayed by exp(-Δt / τ) since they were last decayed, then the batch's sums
are added. Atomic, so poller replicas folding at once each add their own observations and none
is lost or counted twice.

KEYS[1] learned load model hash (keys.ts calibration): fields `sums` (comma-separated), `at` (ms)
ARGV[1] now (ms)  ARGV[2] τ (ms)  ARGV[3] the batch's sums (comma-separated, same length)

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
return sums
