-- JOIN/UPDATE/rewrite of one member. KEYS: zset (conn -> expiry), hash (conn -> leave envelope), clock.
-- ARGV: conn, stored leave envelope, ttl ms, key ttl ms, gapmax, channel, upsert event.
-- Publishes the event only when the stored state changed, so a rewrite after an outage is quiet.
local now = pd_now(KEYS[3], tonumber(ARGV[5]), tonumber(ARGV[3]), true)
local old = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if old ~= ARGV[2] then
  redis.call(PD_PUBLISH, ARGV[6], ARGV[7])
  return 1
end
return 0
