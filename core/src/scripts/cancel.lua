-- A waiter gives up: leaves the queue. If a release handed it the lock in the
-- meantime it keeps it, as the hand-off happened within its wait.
-- KEYS: 1 lock hash, 2 waiter queue, 3 caller's wake-up list
-- ARGV: 1 owner, 2 the caller's queue entry
-- Returns {1, token} if the caller holds the lock, {0} otherwise.
redis.call('LREM', KEYS[2], 1, ARGV[2])
redis.call('DEL', KEYS[3])
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  return {1, tonumber(redis.call('HGET', KEYS[1], 'token'))}
end
return {0}
