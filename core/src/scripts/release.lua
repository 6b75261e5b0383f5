-- Releases a lock held by the caller and hands it straight to the first waiter
-- whose wait has not run out, so a waiter never races a newcomer for it.
-- With ARGV[2] set, frees the lock whoever holds it (forceUnlock) and records
-- who did it in KEYS[4].
-- KEYS: 1 lock hash, 2 waiter queue (entries, see wake_slots.lua), 3 fence,
--       4 forced-unlock record (unused, and the lock key, when not forced),
--       5 .. 4+slots the lock's wake-up lists, one per slot; a plain release
--       may leave them out (see below)
-- ARGV: 1 owner, 2 who forces it ('' = normal release)
-- Returns 0 if the caller did not hold the lock (nothing held, when forced),
-- 1 if released, 2 if handed off, 3 if waiters are queued but the wake-up
-- lists were left out (nothing changed: call again with them).
-- Why the short form: Redis spends about 0.2 us on each declared key, and
-- the 16 wake-up lists, which only a hand-off touches, were most of the
-- cost of an uncontended release (bench/README.md, "Redis CPU per cycle").
local holder = redis.call('HGET', KEYS[1], 'owner')
if ARGV[2] ~= '' then
  if not holder then
    return 0
  end
  redis.call('HSET', KEYS[4], 'by', ARGV[2], 'at', string.format('%d', now_ms()),
    'holder', redis.call('HGET', KEYS[1], 'holder') or '', 'token', redis.call('HGET', KEYS[1], 'token') or '')
  redis.call('PEXPIRE', KEYS[4], 86400000)
elseif holder ~= ARGV[1] then
  return 0
end
if #KEYS == 4 then
  if redis.call('LLEN', KEYS[2]) > 0 then
    return 3
  end
  redis.call('DEL', KEYS[1])
  return 1
end
-- A hand-off overwrites every field of the lock hash: it is deleted only
-- when nobody takes the lock over.
local s, us, now
while true do
  local entry = redis.call('LPOP', KEYS[2])
  if not entry then
    redis.call('DEL', KEYS[1])
    return 1
  end
  if not now then
    s, us = redis_now()
    now = s * 1000 + math.floor(us / 1000)
  end
  -- An entry of another shape, or whose wait ran out, is dropped.
  local f = parse_entry(entry)
  if f and f.deadline >= now then
    local token = string.format('%d', next_token(KEYS[3], s, us))
    redis.call('HSET', KEYS[1], 'owner', f.owner, 'token', token,
      'since', string.format('%d', now), 'holder', f.holder, 'slot', f.slot)
    redis.call('PEXPIRE', KEYS[1], f.claim_ttl)
    -- A waiter without a slot finds the lock at its next attempt.
    local wake = f.slot >= 0 and KEYS[5 + f.slot]
    if wake then
      redis.call('RPUSH', wake, f.owner .. '|' .. token)
      redis.call('PEXPIRE', wake, f.claim_ttl)
    end
    return 2
  end
end
