-- A waiter gives up: leaves the queue. If a release handed it the lock in the
-- meantime it keeps it, as the hand-off happened within its wait, and takes
-- back the wake-up pushed for it.
-- KEYS: 1 lock hash, 2 waiter queue, 3 the caller's wake-up list (the lock
--       hash when it has no slot)
-- ARGV: 1 owner, 2 the caller's queue entry
-- Returns {1, token} if the caller holds the lock, {0} otherwise.
redis.call('LREM', KEYS[2], 1, ARGV[2])
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  local token = redis.call('HGET', KEYS[1], 'token')
  if KEYS[3] ~= KEYS[1] then
    redis.call('LREM', KEYS[3], 0, ARGV[1] .. '|' .. token)
  end
  return {1, tonumber(token)}
end
return {0}
