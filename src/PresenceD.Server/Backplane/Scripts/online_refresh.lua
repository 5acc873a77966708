-- Marks connections online (HELLO, and every sweep interval for all of this node's connections, a bounded
-- chunk per call). KEYS: the slot's clock, then the online set of each connection's user (all in one slot).
-- ARGV: ttl ms, key ttl ms, gapmax, then the conn of each KEYS entry after the clock.
local now = pd_now(KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[1]), true)
local expiry = now + tonumber(ARGV[1])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], expiry, ARGV[i + 2])
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return now
