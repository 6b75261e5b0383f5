-- Releases a lock held by the caller and hands it straight to the first waiter
-- whose wait has not run out, so a waiter never races a newcomer for it.
-- With ARGV[3] set, frees the lock whoever holds it (forceUnlock) and records
-- who did it in KEYS[4].
-- KEYS: 1 lock hash, 2 waiter queue (entries, see acquire.lua), 3 fence,
--       4 forced-unlock record (unused, and the lock key, when not forced)
-- ARGV: 1 owner, 2 wake-up list prefix, 3 who forces it ('' = normal release)
-- Returns 0 if the caller did not hold the lock (nothing held, when forced),
-- 1 if released, 2 if handed off.
local holder = redis.call('HGET', KEYS[1], 'owner')
if ARGV[3] ~= '' then
  if not holder then
    return 0
  end
  redis.call('HSET', KEYS[4], 'by', ARGV[3], 'at', string.format('%d', now_ms()),
    'holder', redis.call('HGET', KEYS[1], 'holder') or '', 'token', redis.call('HGET', KEYS[1], 'token') or '')
  redis.call('PEXPIRE', KEYS[4], 86400000)
elseif holder ~= ARGV[1] then
  return 0
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
  -- owner|deadline_ms|claim_ttl_ms|holder; an entry of any other shape is dropped.
  local sep = string.find(entry, '|', 1, true)
  local sep2 = sep and string.find(entry, '|', sep + 1, true)
  local sep3 = sep2 and string.find(entry, '|', sep2 + 1, true)
  if sep3 and (tonumber(string.sub(entry, sep + 1, sep2 - 1)) or 0) >= now then
    local waiter = string.sub(entry, 1, sep - 1)
    local ttl = string.sub(entry, sep2 + 1, sep3 - 1)
    local token = string.format('%d', next_token(KEYS[3], s, us))
    redis.call('HSET', KEYS[1], 'owner', waiter, 'token', token,
      'since', string.format('%d', now), 'holder', string.sub(entry, sep3 + 1))
    redis.call('PEXPIRE', KEYS[1], ttl)
    local wake = ARGV[2] .. waiter
    redis.call('RPUSH', wake, token)
    redis.call('PEXPIRE', wake, ttl)
    return 2
  end
end
