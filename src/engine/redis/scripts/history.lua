-- Read a channel's history stream: its top offset and epoch (creating the epoch when the
-- stream has none, so that later publishes keep it), after dropping entries older than ttl.
--
-- KEYS[1] history stream       KEYS[2] stream meta (hash: s = top offset, e = epoch)
-- ARGV[1] history ttl ms       ARGV[2] epoch to use if the stream has none
-- ARGV[3] what to read: 'none', 'oldest' (oldest first), 'newest' (newest first), or
--         'after' (newest first, the entries after offset ARGV[4])
-- ARGV[4] how many (-1: all), or for 'after' the offset after which to read
-- Returns {top, epoch, entries}; each entry is {id, {'p', body}}.

local ttl = tonumber(ARGV[1])
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[2], 'e', epoch)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
local top = tonumber(redis.call('HGET', KEYS[2], 's') or '0')

local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('XTRIM', KEYS[1], 'MINID', now_ms - ttl)

local mode = ARGV[3]
local n = tonumber(ARGV[4])
local entries = {}
if mode == 'oldest' then
  if n < 0 then entries = redis.call('XRANGE', KEYS[1], '-', '+')
  else entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', n) end
elseif mode == 'newest' then
  if n < 0 then entries = redis.call('XREVRANGE', KEYS[1], '+', '-')
  else entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', n) end
elseif mode == 'after' then
  local missing = top - n
  if missing > 0 then entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', missing) end
end
return {top, epoch, entries}
