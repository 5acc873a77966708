-- LEAVE/BYE/vanish of one member. KEYS: zset, hash. ARGV: conn, channel, leave event.
-- Only the call that removes the entry publishes, so a leave races a sweep at most once.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call(PD_PUBLISH, ARGV[2], ARGV[3])
  return 1
end
redis.call('HDEL', KEYS[2], ARGV[1])
return 0
