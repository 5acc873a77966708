-- Marks connections online (HELLO, and every sweep interval for all of this node's connections).
-- ARGV: ttl ms, key ttl ms, gapmax, then user, conn pairs. Keys are built here: single-Redis deployment.
local now = pd_now(tonumber(ARGV[3]))
local expiry = now + tonumber(ARGV[1])
for i = 4, #ARGV, 2 do
  local key = 'pd:u:' .. ARGV[i]
  redis.call('ZADD', key, expiry, ARGV[i + 1])
  redis.call('PEXPIRE', key, ARGV[2])
end
return now
