-- Moves a payment to a new status if the graph allows it from the current one.
-- KEYS: 1 status key
-- ARGV: 1 new status, 2 retention ms, 3.. statuses from which the new one is reachable
-- Returns 1 if applied, 0 if it was a duplicate, stale or unreachable status.
local current = redis.call('GET', KEYS[1])
if current then
  if current == ARGV[1] then
    return 0
  end
  local allowed = false
  for i = 3, #ARGV do
    if ARGV[i] == current then
      allowed = true
      break
    end
  end
  if not allowed then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
