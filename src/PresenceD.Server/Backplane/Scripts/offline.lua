-- A connection ended. ARGV: user, conn.
redis.call('ZREM', 'pd:u:' .. ARGV[1], ARGV[2])
return 0
