-- Stores the result of a claimed key and wakes everyone waiting for it.
-- KEYS: 1 record hash, 2 wake-up list
-- ARGV: 1 claim owner, 2 serialized result, 3 retention ms
-- Returns 1, or 0 if the claim had expired and was taken by someone else.
local rec = KEYS[1]
if redis.call('HGET', rec, 'owner') ~= ARGV[1] then
  return 0
end
local waiters = tonumber(redis.call('HGET', rec, 'waiters') or '0')
redis.call('HSET', rec, 'state', 'completed', 'result', ARGV[2])
redis.call('HDEL', rec, 'owner', 'waiters')
redis.call('PEXPIRE', rec, ARGV[3])
for _ = 1, waiters do
  redis.call('RPUSH', KEYS[2], '1')
end
if waiters > 0 then
  redis.call('PEXPIRE', KEYS[2], 60000)
end
return 1
