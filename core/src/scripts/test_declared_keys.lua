-- Test prelude (the core's unit tests only): redis.call that fails on a key
-- the script did not declare in KEYS.
local function declared_call(command, ...)
  local args = {...}
  local name = string.upper(command)
  local touched
  if name == 'TIME' then
    touched = {}
  elseif name == 'DEL' or name == 'EXISTS' then
    touched = args
  else
    touched = {args[1]}
  end
  for _, key in ipairs(touched) do
    local ok = false
    for _, declared in ipairs(KEYS) do
      if declared == key then
        ok = true
      end
    end
    if not ok then
      error('script touches undeclared key ' .. tostring(key) .. ' (' .. name .. ')')
    end
  end
  return redis.call(command, ...)
end
