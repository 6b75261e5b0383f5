-- Releases a lock held by the caller and hands it straight to the first waiter
-- whose wait has not run out, so a waiter never races a newcomer for it.
-- KEYS: 1 lock hash, 2 waiter queue, 3 waiter info, 4 fence
-- ARGV: 1 owner, 2 wake-up list prefix
-- Returns 0 if the caller did not hold the lock, 1 if released, 2 if handed off.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
local now
while true do
  local waiter = redis.call('LPOP', KEYS[2])
  if not waiter then
    return 1
  end
  now = now or now_ms()
  local info = redis.call('HGET', KEYS[3], waiter)
  redis.call('HDEL', KEYS[3], waiter)
  if info then
    local sep = string.find(info, '|', 1, true)
    local deadline = tonumber(string.sub(info, 1, sep - 1))
    local ttl = string.sub(info, sep + 1)
    if deadline >= now then
      local token = string.format('%d', next_token(KEYS[4]))
      redis.call('HSET', KEYS[1], 'owner', waiter, 'token', token)
      redis.call('PEXPIRE', KEYS[1], ttl)
      local wake = ARGV[2] .. waiter
      redis.call('RPUSH', wake, token)
      redis.call('PEXPIRE', wake, ttl)
      return 2
    end
  end
end
