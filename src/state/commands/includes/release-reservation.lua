-- Takes a meeting's reservation out of its server's sums if it was counted in them
-- (placement/reservations.ts removeReservation); the last one leaves none, without the
-- additions' rounding. `reservations`: the server's reservations hash; `server`: its hash.
local function releaseReservation(reservations, server, ref)
  local entry = redis.call('HGET', reservations, ref)
  if not entry then return end
  redis.call('HDEL', reservations, ref)
  local r, t, m, counted = string.match(entry, '^([^|]*)|([^|]*)|([^|]*)|?([^|]*)$')
  if redis.call('HLEN', reservations) == 0 then
    redis.call('HDEL', server, 'resvReserved', 'resvReservedAt', 'resvMeasured', 'resvUntil')
  elseif counted == '1' then
    local s = redis.call('HMGET', server, 'resvReserved', 'resvReservedAt', 'resvMeasured')
    -- No sums means no server hash to write to (the server was removed meanwhile).
    if s[1] then
      r, t, m = tonumber(r), tonumber(t), tonumber(m)
      redis.call('HSET', server, 'resvReserved', string.format('%.17g', tonumber(s[1]) - r),
        'resvReservedAt', string.format('%.17g', tonumber(s[2]) - r * t),
        'resvMeasured', string.format('%.17g', tonumber(s[3]) - m))
    end
  end
end
