-- Remaining ttl of a lock if the caller holds it.
-- KEYS: 1 lock hash   ARGV: 1 owner
-- Returns the ttl in ms (at least 1 while the key exists: PTTL reads 0 in the
-- last millisecond, when extend() still succeeds), -1 if the lock has no
-- expiry (removed by hand), or -2 if the caller does not hold it.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
  return -2
end
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -1 then
  return -1
end
return math.max(pttl, 1)
