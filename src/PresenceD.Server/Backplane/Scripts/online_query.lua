-- ONLINE: which of the asked users (all in this script's slot) have a live connection anywhere.
-- KEYS: the slot's clock, then one online set per user. ARGV: gapmax. Returns the 1-based positions
-- (among the users) of those online. Does not credit the clock (see clock.lua).
local now = pd_now(KEYS[1], tonumber(ARGV[1]), 0, false)
local online = {}
for i = 2, #KEYS do
  if redis.call('ZCOUNT', KEYS[i], '(' .. now, '+inf') > 0 then online[#online + 1] = i - 1 end
end
return online
