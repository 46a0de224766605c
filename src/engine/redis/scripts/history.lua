-- Read a channel's history stream: its top offset and epoch, after dropping entries older than
-- ttl. A channel never published to gets an epoch (which a first publish keeps) and nothing
-- else: only the meta hash, kept ARGV[5] ms after each such read, so reading never-published
-- channels leaves nothing for long. The stream key is never created by a read.
--
-- KEYS[1] history stream       KEYS[2] stream meta (hash: s = top offset, e = epoch,
--                                       r = replication id of the master that last wrote it)
-- ARGV[1] history ttl ms       ARGV[2] epoch to use if the stream has none
-- ARGV[3] what to read: 'none', 'oldest' (oldest first), 'newest' (newest first), or
--         'after' (newest first, the entries after offset ARGV[4])
-- ARGV[4] how many (-1: all), or for 'after' the offset after which to read
-- ARGV[5] ms to keep the epoch of a stream that has no publication yet
-- Returns {top, epoch, entries}; each entry is {id, {'p', body}}.

local ttl = tonumber(ARGV[1])
local id = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)') or ''
local meta = redis.call('HMGET', KEYS[2], 'e', 's', 'r')
local epoch = meta[1]
local top = tonumber(meta[2] or '0')
if epoch and meta[3] and meta[3] ~= id then
  -- Written under another master (failover, restart, moved slot): see publish.lua.
  epoch = false
  redis.call('DEL', KEYS[1])
end
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[2], 'e', epoch, 'r', id)
  if top == 0 then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5])) end
elseif top == 0 then
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5])) end
elseif not meta[3] then
  redis.call('HSET', KEYS[2], 'r', id)
end

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
