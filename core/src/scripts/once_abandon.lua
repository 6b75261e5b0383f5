-- Drops a claim whose callback failed, so that a retry can run it, and wakes
-- the waiters so one of them claims it at once.
-- KEYS: 1 record hash, 2 wake-up list
-- ARGV: 1 claim owner
-- Returns 1 if the claim was dropped, 0 if it was no longer ours.
local rec = KEYS[1]
if redis.call('HGET', rec, 'owner') ~= ARGV[1] then
  return 0
end
wake_waiters(rec, KEYS[2])
redis.call('DEL', rec)
return 1
