-- Prelude of every script. The cluster clock is Redis's TIME minus the time during which nobody reached
-- Redis (it was paused, or every node was away): a gap between two calls longer than gapmax is added to
-- the offset, so presence entries do not all look expired the moment a paused Redis resumes.
local function pd_now(gapmax)
  local t = redis.call('TIME')
  local real = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local c = redis.call('HMGET', 'pd:clock', 'last', 'offset')
  local offset = tonumber(c[2]) or 0
  local last = tonumber(c[1])
  if last and real - last > gapmax then offset = offset + (real - last) end
  if last == nil or real > last then redis.call('HSET', 'pd:clock', 'last', real, 'offset', offset) end
  return real - offset
end
