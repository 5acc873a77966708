-- The live members of one room, as their stored leave envelopes. KEYS: zset, hash, clock.
-- ARGV: gapmax, credit (1: a node that holds the room and refreshes it, 0: a question from outside; see clock.lua),
-- ttl ms (the clock's grace).
local now = pd_now(KEYS[3], tonumber(ARGV[1]), tonumber(ARGV[3]), ARGV[2] == '1')
local conns = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
if #conns == 0 then return {} end
local stored = redis.call('HMGET', KEYS[2], unpack(conns))
local live = {}
for i = 1, #conns do
  if stored[i] then live[#live + 1] = stored[i] end
end
return live
