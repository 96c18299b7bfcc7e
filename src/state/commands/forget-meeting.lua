--[[
Forgets a meeting's placement (ended, or its create failed upstream) if it is still on the
given server, so a late call never removes a newer placement of the same meeting ID.
KEYS[1] meeting hash  KEYS[2] meetings index  KEYS[3] server-meetings set  KEYS[4] reservations hash
KEYS[5] inside set  KEYS[6] pending-joins zset
ARGV[1] ref  ARGV[2] serverId
]]
if redis.call('HGET', KEYS[1], 'server') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[5], KEYS[6])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
