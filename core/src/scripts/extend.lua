-- Sets a new ttl on a lock the caller still holds.
-- KEYS: 1 lock hash   ARGV: 1 owner, 2 ttl_ms
-- Returns 1 if extended, 0 if the caller no longer holds it.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
