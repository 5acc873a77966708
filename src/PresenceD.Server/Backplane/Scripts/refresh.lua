-- Extends the expiry of a chunk of this node's members of one room. KEYS: zset, hash, clock.
-- ARGV: ttl ms, key ttl ms, gapmax, conn... Returns the conns that were no longer there (swept while
-- this node could not refresh them), which the node then writes again.
local now = pd_now(KEYS[3], tonumber(ARGV[3]), tonumber(ARGV[1]), true)
local expiry = now + tonumber(ARGV[1])
local missing = {}
for i = 4, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], expiry, ARGV[i])
  else
    missing[#missing + 1] = ARGV[i]
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return missing
