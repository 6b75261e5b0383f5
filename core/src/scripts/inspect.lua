-- Who holds a lock, since when, for how much longer, and how many wait for it.
-- KEYS: 1 lock hash, 2 waiter queue
-- Returns {} if free, else {token, since_ms, holder, pttl, waiters}.
local v = redis.call('HMGET', KEYS[1], 'token', 'since', 'holder')
if not v[1] then
  return {}
end
return {v[1], v[2] or '0', v[3] or '', redis.call('PTTL', KEYS[1]), redis.call('LLEN', KEYS[2])}
