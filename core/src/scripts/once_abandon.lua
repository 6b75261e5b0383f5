-- Drops a claim whose callback failed, so that a retry can run it, and wakes
-- the waiters so one of them claims it at once.
-- KEYS: 1 record hash, 2 wake-up list
-- ARGV: 1 claim owner
-- Returns 1 if the claim was dropped, 0 if it was no longer ours.
local rec = KEYS[1]
if redis.call('HGET', rec, 'owner') ~= ARGV[1] then
  return 0
end
local waiters = tonumber(redis.call('HGET', rec, 'waiters') or '0')
redis.call('DEL', rec)
for _ = 1, waiters do
  redis.call('RPUSH', KEYS[2], '1')
end
if waiters > 0 then
  redis.call('PEXPIRE', KEYS[2], 60000)
end
return 1
