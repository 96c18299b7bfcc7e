--[[
Counts requests in fixed rate-limit windows for every request a gateway received in one turn of
its event loop, in arrival order, as if each had come alone.

KEYS one window key per request (keys.ts rateLimit: client address or tenant)
ARGV[1] window (ms)

Returns one line per request: count in the window including this one, tab, ms until it ends.
]]
--@include window-count

local window = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local current, ttl = windowCount(KEYS[i], window)
  out[i] = current .. '\t' .. ttl
end
return table.concat(out, '\n')
