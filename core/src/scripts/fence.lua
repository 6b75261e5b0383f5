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
-- s, us: Redis time, as redis_now() returned it. While the clock moves on (the
-- usual case) the new token is the time itself, so one SET ... GET both stores
-- it and reads the last one; only a clock that went back costs a second write.
local function next_token(fence_key, s, us)
  local token = s * 1000000 + us
  local last = tonumber(redis.call('SET', fence_key, string.format('%d', token),
    'PX', FENCE_RETENTION_MS, 'GET'))
  if last and last >= token then
    token = last + 1
    redis.call('SET', fence_key, string.format('%d', token), 'PX', FENCE_RETENTION_MS)
  end
  return token
end
