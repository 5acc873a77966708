-- PUBLISH to a history room: assigns the room's next offset, completes the MESSAGE frame with it, keeps it
-- in the room's stream under id 0-<offset> (trimmed to history_size) and publishes it, all atomically, so
-- every node receives a room's messages in offset order. KEYS: stream, epoch hash.
-- ARGV: MESSAGE body without its offset, maxlen, channel, origin node, epoch for a new history, ttl ms.
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  epoch = ARGV[5]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'last', 0)
end
local offset = redis.call('HINCRBY', KEYS[2], 'last', 1)
local tail = {}
local n = offset
for i = 8, 1, -1 do
  tail[i] = string.char(n % 256)
  n = math.floor(n / 256)
end
local body = ARGV[1] .. string.char(0xcf) .. table.concat(tail)
local len = #body
local frame = string.char(math.floor(len / 16777216) % 256, math.floor(len / 65536) % 256, math.floor(len / 256) % 256, len % 256) .. body
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], string.format('0-%d', offset), 'f', frame)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call(PD_PUBLISH, ARGV[3], string.char(4, #ARGV[4]) .. ARGV[4] .. string.char(#epoch) .. epoch .. frame)
return offset
