-- A history room's epoch and last offset, and the frames after ARGV[1] (-1: none) when all are still held.
-- Creates the epoch when the room has none yet, so a JOINED before the first message already names the
-- epoch that message will belong to. KEYS: stream, epoch hash. ARGV: from, epoch for a new history, ttl ms.
-- Returns {epoch, last, complete (1/0), frame...}.
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'epoch', epoch, 'last', 0)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return {epoch, 0, 1}
end
local last = tonumber(redis.call('HGET', KEYS[2], 'last'))
local from = tonumber(ARGV[1])
if from < 0 or from >= last then return {epoch, last, 1} end
local first = string.format('0-%d', from + 1)
local entries = redis.call('XRANGE', KEYS[1], first, '+')
local result = {epoch, last, 0}
if #entries == 0 or entries[1][1] ~= first then return result end
result[3] = 1
for _, entry in ipairs(entries) do result[#result + 1] = entry[2][2] end
return result
