-- Shared prelude of the lock scripts: a waiter's queue entry is
-- "owner|deadline_ms|claim_ttl_ms|slot|holder" (the holder may contain '|').
-- The slot (0 .. slots-1, or -1 when all are taken) names the wake-up list
-- the waiter blocks on, one of a fixed set per lock that every script which
-- may push to one declares in its KEYS. A slot is given to one queued waiter
-- at a time, and stays taken while its waiter holds the lock after a
-- hand-off (its wake-up may still be pending), so a waiter only ever pops a
-- token pushed for itself.

-- The fields of an entry, or nil for an entry of any other shape.
local function parse_entry(entry)
  local s1 = string.find(entry, '|', 1, true)
  local s2 = s1 and string.find(entry, '|', s1 + 1, true)
  local s3 = s2 and string.find(entry, '|', s2 + 1, true)
  local s4 = s3 and string.find(entry, '|', s3 + 1, true)
  if not s4 then
    return nil
  end
  local deadline_text = string.sub(entry, s1 + 1, s2 - 1)
  local deadline = tonumber(deadline_text)
  local slot = tonumber(string.sub(entry, s3 + 1, s4 - 1))
  if not deadline or not slot then
    return nil
  end
  return {
    owner = string.sub(entry, 1, s1 - 1),
    deadline = deadline,
    deadline_text = deadline_text,
    claim_ttl = string.sub(entry, s2 + 1, s3 - 1),
    slot = slot,
    holder = string.sub(entry, s4 + 1),
  }
end

-- The lowest slot that neither a queued waiter (other than `except`) nor
-- the holder of a handed-over lock uses, or -1.
local function free_slot(lock, queue, slots, except)
  local used = {}
  local held = tonumber(redis.call('HGET', lock, 'slot') or '')
  if held then
    used[held] = true
  end
  for _, e in ipairs(redis.call('LRANGE', queue, 0, -1)) do
    local f = e ~= except and parse_entry(e)
    if f then
      used[f.slot] = true
    end
  end
  for i = 0, slots - 1 do
    if not used[i] then
      return i
    end
  end
  return -1
end
