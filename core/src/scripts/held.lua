-- Remaining ttl of a lock if the caller holds it.
-- KEYS: 1 lock hash   ARGV: 1 owner
-- Returns the ttl in ms, or -2 if the caller does not hold it.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
  return -2
end
return redis.call('PTTL', KEYS[1])
