-- Shared prelude: wakes every caller waiting on an idempotency key (one
-- element each on the wake-up list; the list expires if some gave up).
local function wake_waiters(record, wake)
  local waiters = tonumber(redis.call('HGET', record, 'waiters') or '0')
  for _ = 1, waiters do
    redis.call('RPUSH', wake, '1')
  end
  if waiters > 0 then
    redis.call('PEXPIRE', wake, 60000)
  end
end
