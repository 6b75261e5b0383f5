-- Takes a lock if it is free, or queues the caller as a waiter (see
-- wake_slots.lua for the queue entries and wake-up slots).
-- KEYS: 1 lock hash, 2 waiter queue (list of entries), 3 fence,
--       4 the caller's wake-up list when it knows its slot, else the lock hash
-- ARGV: 1 owner, 2 ttl_ms, 3 wait_ms (0: do not queue), 4 holder ("host\tpid\trequest"),
--       5 claim ttl_ms: how long a lock handed to this waiter lasts until the
--         waiter, alive, extends it (a dead waiter must not keep it for a full ttl)
--       6 the caller's queue entry: '' if it was never queued, '?' if an
--         earlier attempt whose reply was lost may have queued it
--       7 the number of wake-up slots
-- Returns {1, token} when the caller took the lock, {2, token} when a release
-- had already handed it to the caller (it then lasts only the claim ttl),
-- {0, pttl, entry} when it is busy and the caller waits in the queue as
-- entry (which may differ from the one it passed: a new slot), {0, pttl}
-- when it is busy and the caller does not wait.
local owner = ARGV[1]
local holder = redis.call('HGET', KEYS[1], 'owner')
if holder == owner then
  -- Handed to us by a release while we were between attempts: take back
  -- the wake-up pushed for us (it is ours alone; see wake_slots.lua).
  local token = redis.call('HGET', KEYS[1], 'token')
  if KEYS[4] ~= KEYS[1] then
    redis.call('LREM', KEYS[4], 0, owner .. '|' .. token)
  end
  return {2, tonumber(token)}
end
local entry = ARGV[6]
if entry == '?' then
  -- Only a retry after a lost reply, which cannot know whether or with which
  -- deadline it was queued, searches the queue for its entry.
  entry = ''
  local prefix = owner .. '|'
  for _, e in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    if string.sub(e, 1, #prefix) == prefix then
      entry = e
      break
    end
  end
end
if not holder then
  if entry ~= '' then
    redis.call('LREM', KEYS[2], 1, entry)
  end
  local s, us = redis_now()
  local token = next_token(KEYS[3], s, us)
  redis.call('HSET', KEYS[1], 'owner', owner, 'token', string.format('%d', token),
    'since', string.format('%d', s * 1000 + math.floor(us / 1000)), 'holder', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, token}
end
local pttl = redis.call('PTTL', KEYS[1])
local wait = tonumber(ARGV[3])
if wait == 0 then
  return {0, pttl}
end
local slots = tonumber(ARGV[7])
local at = entry ~= '' and redis.call('LPOS', KEYS[2], entry)
if at then
  -- A known entry keeps its place; one without a slot takes one that is free now.
  local f = parse_entry(entry)
  if f and f.slot < 0 then
    local slot = free_slot(KEYS[1], KEYS[2], slots, entry)
    if slot >= 0 then
      entry = f.owner .. '|' .. f.deadline_text .. '|' .. f.claim_ttl .. '|' .. slot .. '|' .. f.holder
      redis.call('LSET', KEYS[2], at, entry)
    end
  end
else
  -- New, or its queue was lost: queued (again) with a slot free now.
  local f = entry ~= '' and parse_entry(entry)
  local slot = free_slot(KEYS[1], KEYS[2], slots, nil)
  if f then
    entry = f.owner .. '|' .. f.deadline_text .. '|' .. f.claim_ttl .. '|' .. slot .. '|' .. f.holder
  else
    entry = owner .. '|' .. string.format('%d', now_ms() + wait) .. '|' .. ARGV[5] .. '|'
      .. slot .. '|' .. ARGV[4]
  end
  redis.call('RPUSH', KEYS[2], entry)
end
-- The queue must outlive every live waiter's deadline. Extended with 10 s
-- to spare, so that the waiters queueing after this one rarely extend it.
if redis.call('PTTL', KEYS[2]) < wait + 1000 then
  redis.call('PEXPIRE', KEYS[2], wait + 10000)
end
return {0, pttl, entry}
