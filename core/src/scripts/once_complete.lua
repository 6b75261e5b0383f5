-- Stores the result of a claimed key and wakes everyone waiting for it.
-- KEYS: 1 record hash, 2 wake-up list
-- ARGV: 1 claim owner, 2 serialized result, 3 retention ms
-- Returns 1, or 0 if the claim had expired and was taken by someone else.
local rec = KEYS[1]
if redis.call('HGET', rec, 'owner') ~= ARGV[1] then
  return 0
end
wake_waiters(rec, KEYS[2])
redis.call('HSET', rec, 'state', 'completed', 'result', ARGV[2])
redis.call('HDEL', rec, 'owner', 'waiters')
redis.call('PEXPIRE', rec, ARGV[3])
return 1
