-- Read a channel's history stream: its top offset and epoch, after dropping entries older than
-- ttl. A channel never published to gets an epoch (which a first publish keeps) and nothing
-- else: only the meta hash, kept ARGV[5] ms after each such read, so reading never-published
-- channels leaves nothing for long. The stream key is never created by a read.
--
-- KEYS[1] history stream       KEYS[2] stream meta (hash: s = top offset, e = epoch,
--                                       r = replication id of the master that last wrote it)
-- ARGV[1] history ttl ms       ARGV[2] epoch to use if the stream has none
-- ARGV[3] what to read: 'none', 'oldest' (oldest first), 'newest' (newest first), 'after'
--         (oldest first, the entries after offset ARGV[6]) or 'before' (newest first, the
--         entries before offset ARGV[6])
-- ARGV[4] how many at most (> 0): the caller reads a long history in pages, so that no call
--         loads more than one page, however long the stream or the gap
-- ARGV[5] ms to keep the epoch of a stream that has no publication yet
-- ARGV[6] the offset 'after' and 'before' count from
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

-- The offset an entry holds: its body starts with {"o":N, (publish.lua).
local function offset_of(entry)
  return tonumber(string.match(entry[2][2], '^{"o":(%d+)'))
end

-- The id of the entry holding offset o, oldest <= o <= newest (the stream's end entries). The
-- stream holds consecutive offsets, one entry each, removed only from its oldest end; within one
-- millisecond Redis numbers auto ids consecutively too. So a binary search over milliseconds
-- finds the last one whose first entry is at or before o, and o's sequence number follows from
-- that entry's: O(log(time span)) lookups, whatever the length of the stream or of the gap.
local function locate(o, oldest, newest)
  local lo = tonumber(string.match(oldest[1], '^(%d+)'))
  local hi = tonumber(string.match(newest[1], '^(%d+)'))
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    local e = redis.call('XRANGE', KEYS[1], string.format('%.0f', mid), '+', 'COUNT', 1)[1]
    if offset_of(e) <= o then lo = mid else hi = mid - 1 end
  end
  local first = redis.call('XRANGE', KEYS[1], string.format('%.0f', lo), '+', 'COUNT', 1)[1]
  local seq = tonumber(string.match(first[1], '-(%d+)$')) + (o - offset_of(first))
  local id = string.format('%.0f-%.0f', lo, seq)
  local hit = redis.call('XRANGE', KEYS[1], id, id)[1]
  -- Not where it must be (a stream canal did not write): nothing, which readers take as a gap
  -- history cannot fill, never as publications out of place.
  if hit and offset_of(hit) == o then return id end
  return nil
end

if mode == 'oldest' then
  entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', n)
elseif mode == 'newest' then
  entries = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', n)
elseif mode == 'after' or mode == 'before' then
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  if oldest then
    local at = tonumber(ARGV[6])
    local low, high = offset_of(oldest), offset_of(newest)
    if mode == 'after' then
      -- From the oldest entry when the next offset was trimmed: the reader sees the jump.
      local from = math.max(at + 1, low)
      if from <= high then
        local id = locate(from, oldest, newest)
        if id then entries = redis.call('XRANGE', KEYS[1], id, '+', 'COUNT', n) end
      end
    else
      local to = math.min(at - 1, high)
      if to >= low then
        local id = locate(to, oldest, newest)
        if id then entries = redis.call('XREVRANGE', KEYS[1], id, '-', 'COUNT', n) end
      end
    end
  end
end
return {top, epoch, entries}
