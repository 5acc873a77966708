-- A connection ended. KEYS: the user's online set. ARGV: conn.
redis.call('ZREM', KEYS[1], ARGV[1])
return 0
