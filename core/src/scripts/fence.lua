-- Shared prelude: issues the next fencing token of a resource.
-- Tokens are max(last + 1, Redis time in microseconds), so they keep rising even
-- after the counter key expired: no permanent key per order is needed.
local FENCE_RETENTION_MS = 86400000
local function redis_now()
  local t = redis.call('TIME')
  return tonumber(t[1]), tonumber(t[2])
end
local function now_ms()
  local s, us = redis_now()
  return s * 1000 + math.floor(us / 1000)
end
-- s, us: Redis time, as redis_now() returned it.
local function next_token(fence_key, s, us)
  local floor = s * 1000000 + us
  local token = redis.call('INCR', fence_key)
  if token < floor then
    token = floor
    redis.call('SET', fence_key, string.format('%d', token))
  end
  redis.call('PEXPIRE', fence_key, FENCE_RETENTION_MS)
  return token
end
