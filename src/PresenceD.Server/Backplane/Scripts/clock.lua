-- Prelude of every script (PD_PUBLISH is put in front of it: PUBLISH, or SPUBLISH on a Redis Cluster).
-- The cluster clock is Redis's TIME minus the time during which nobody reached this clock's shard (it was
-- paused, or every node was away): a gap between two crediting calls longer than gapmax is added to the
-- offset, so presence entries do not all look expired the moment a paused Redis resumes. With the gap the
-- offset takes a grace (the entry lifetime, heartbeat_timeout): after such a gap every node must reach Redis
-- again, and a node whose client library takes seconds longer to reconnect than another's (measured: 3 s after
-- a 4 s SIGSTOP on Sentinel) would otherwise have its members swept, a false leave, by the node that came back
-- first. So every entry alive when Redis went away lives at least one more entry lifetime after it returns.
-- Each clock is a hash named in the script's KEYS: one per slot on a Redis Cluster (the slot of the keys it
-- times), one for the whole server otherwise. A read that does not credit (a node asking about a room or users it
-- does not hold) neither adds a gap nor writes: a slot nobody touched for a while because the only node
-- with members there died is time passing, and its entries must look expired, not paused.
local function pd_now(clock, gapmax, grace, credit)
  local t = redis.call('TIME')
  local real = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local c = redis.call('HMGET', clock, 'last', 'offset')
  local offset = tonumber(c[2]) or 0
  local last = tonumber(c[1])
  if not credit then return real - offset end
  if last and real - last > gapmax then offset = offset + (real - last) + grace end
  if last == nil or real > last then redis.call('HSET', clock, 'last', real, 'offset', offset) end
  return real - offset
end
