-- Removes expired members of one room and publishes each one's stored leave envelope (with its will):
-- atomic, so exactly one node publishes each leave. KEYS: zset, hash, clock. ARGV: gapmax, channel, limit, ttl ms
-- (the clock's grace).
local now = pd_now(KEYS[3], tonumber(ARGV[1]), tonumber(ARGV[4]), true)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, conn in ipairs(expired) do
  redis.call('ZREM', KEYS[1], conn)
  local stored = redis.call('HGET', KEYS[2], conn)
  redis.call('HDEL', KEYS[2], conn)
  if stored then redis.call(PD_PUBLISH, ARGV[2], stored) end
end
return #expired
