-- Shared prelude: a waiter's queue entry is "owner|deadline_ms|claim_ttl_ms|holder",
-- so the release that pops it has all it needs without another lookup.
-- The caller remembers its entry; only a retry after a lost reply, which
-- cannot know whether or with which deadline it was queued, searches for it.
local function find_entry(queue, owner)
  local prefix = owner .. '|'
  for _, e in ipairs(redis.call('LRANGE', queue, 0, -1)) do
    if string.sub(e, 1, #prefix) == prefix then
      return e
    end
  end
  return ''
end
