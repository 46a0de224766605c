-- The live connections of one user, for per-user connection limits across nodes: checking the
-- count and adding to it happen in one script, so two nodes cannot both take the last place.
--
-- KEYS[1] sorted set client id -> expiry (ms)     KEYS[2] counter of admissions
-- ARGV[1] operation: 'admit', 'renew', 'remove', 'count'
-- admit:  ARGV[2] client id, ARGV[3] limit (0: none), ARGV[4] ttl ms -> {1, seq} or {0, count}
-- renew:  ARGV[2] client id, ARGV[3] ttl ms
-- remove: ARGV[2] client id
-- count:  -> number of live connections

local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Entries past their expiry (a node that died) go first, whatever the operation.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)

-- The keys live as long as their latest entry.
local function keep(ttl)
  for i = 1, 2 do
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end

local op = ARGV[1]
if op == 'admit' then
  local limit = tonumber(ARGV[3])
  local ttl = tonumber(ARGV[4])
  if limit > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
    local n = redis.call('ZCARD', KEYS[1])
    if n >= limit then return {0, n} end
  end
  redis.call('ZADD', KEYS[1], now_ms + ttl, ARGV[2])
  local seq = redis.call('INCR', KEYS[2])
  keep(ttl)
  return {1, seq}
elseif op == 'renew' then
  local ttl = tonumber(ARGV[3])
  redis.call('ZADD', KEYS[1], now_ms + ttl, ARGV[2])
  if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], 0) end
  keep(ttl)
  return nil
elseif op == 'remove' then
  redis.call('ZREM', KEYS[1], ARGV[2])
  -- The counter stays until it expires: a later admission must still get a larger number.
  if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
  return nil
elseif op == 'count' then
  return redis.call('ZCARD', KEYS[1])
end
return redis.error_reply('users.lua: unknown operation ' .. tostring(op))
