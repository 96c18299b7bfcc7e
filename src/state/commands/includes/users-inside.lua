-- Replaces the set of users a meeting has inside (its server's word, from a poll or a live read)
-- and drops their pending joins: admitted and now inside, they count once, in the participants.
local function setUsersInside(inside, pending, users)
  redis.call('DEL', inside)
  for j = 1, #users, 500 do
    redis.call('SADD', inside, unpack(users, j, math.min(j + 499, #users)))
    redis.call('ZREM', pending, unpack(users, j, math.min(j + 499, #users)))
  end
end
