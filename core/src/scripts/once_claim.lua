-- Claims an idempotency key, or reports what became of it.
-- KEYS: 1 record hash
-- ARGV: 1 claim owner, 2 fingerprint ('' = none), 3 in-progress ttl ms, 4 '1' if the caller will wait
-- Returns {'claimed'}, {'completed', result}, {'in_progress', pttl} or {'mismatch'}.
local rec = KEYS[1]
local state = redis.call('HGET', rec, 'state')
if not state then
  redis.call('HSET', rec, 'state', 'in_progress', 'fp', ARGV[2], 'owner', ARGV[1])
  redis.call('PEXPIRE', rec, ARGV[3])
  return {'claimed'}
end
local fp = redis.call('HGET', rec, 'fp')
if ARGV[2] ~= '' and fp ~= '' and fp ~= ARGV[2] then
  return {'mismatch'}
end
if state == 'completed' then
  return {'completed', redis.call('HGET', rec, 'result')}
end
if ARGV[4] == '1' then
  redis.call('HINCRBY', rec, 'waiters', 1)
end
return {'in_progress', redis.call('PTTL', rec)}
