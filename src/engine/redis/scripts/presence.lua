-- Presence of one channel: who is there, with an expiry per entry, and a per-user count so
-- that the number of users is known without listing every entry.
--
-- KEYS[1] hash client id -> ClientInfo JSON     KEYS[2] sorted set client id -> expiry (ms)
-- KEYS[3] hash user -> number of live entries
-- ARGV[1] operation: 'add', 'remove', 'get', 'stats'
-- add:    ARGV[2] client id, ARGV[3] ClientInfo JSON, ARGV[4] user, ARGV[5] ttl ms
-- remove: ARGV[2] client id
-- Returns: add/remove nothing; get a flat list {id, info, id, info, ...}; stats {clients, users}.

local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local function forget(id)
  local info = redis.call('HGET', KEYS[1], id)
  if info then
    local user = cjson.decode(info)['user']
    if redis.call('HINCRBY', KEYS[3], user, -1) <= 0 then redis.call('HDEL', KEYS[3], user) end
    redis.call('HDEL', KEYS[1], id)
  end
  redis.call('ZREM', KEYS[2], id)
end

-- Entries past their expiry go first, whatever the operation.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now_ms)) do forget(id) end

local op = ARGV[1]
if op == 'add' then
  local ttl = tonumber(ARGV[5])
  local known = redis.call('HGET', KEYS[1], ARGV[2])
  if known and cjson.decode(known)['user'] ~= ARGV[4] then
    forget(ARGV[2])
    known = false
  end
  if not known then redis.call('HINCRBY', KEYS[3], ARGV[4], 1) end
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  redis.call('ZADD', KEYS[2], now_ms + ttl, ARGV[2])
  -- The keys live as long as their newest entry.
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
  return nil
elseif op == 'remove' then
  forget(ARGV[2])
  return nil
elseif op == 'get' then
  return redis.call('HGETALL', KEYS[1])
elseif op == 'stats' then
  return {redis.call('ZCARD', KEYS[2]), redis.call('HLEN', KEYS[3])}
end
return redis.error_reply('presence.lua: unknown operation ' .. tostring(op))
