-- ONLINE: the asked users that have a live connection anywhere. ARGV: gapmax, user...
local now = pd_now(tonumber(ARGV[1]))
local online = {}
for i = 2, #ARGV do
  if redis.call('ZCOUNT', 'pd:u:' .. ARGV[i], '(' .. now, '+inf') > 0 then online[#online + 1] = ARGV[i] end
end
return online
