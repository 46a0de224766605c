-- Publish one publication atomically: bump the channel's offset, append it to the history
-- stream (trimmed by size and by age), and publish it to the nodes through pub/sub, so no node
-- can see an offset that history does not hold. Idempotent per key when KEYS[3] is given.
-- Every key and the pub/sub channel share one hash tag, so in a Redis Cluster this touches one
-- slot only and SPUBLISH goes to that slot's shard.
--
-- KEYS[1] history stream       KEYS[2] stream meta (hash: s = top offset, e = epoch,
--                                       r = replication id of the master that last wrote it)
-- KEYS[3] idempotency key (when ARGV[7] is 0 the caller passes KEYS[2] again: unused)
-- ARGV[1] pub/sub channel      ARGV[2] header fields after offset and epoch (',"t":...' or '')
-- ARGV[3] data (JSON text)     ARGV[4] history size (0: no history)
-- ARGV[5] history ttl ms       ARGV[6] epoch to use if the stream has none
-- ARGV[7] idempotency ttl ms (0: none)
-- ARGV[8] meta ttl ms (how long offset and epoch outlive the last publish; >= history ttl)
-- ARGV[9] 'PUBLISH' or 'SPUBLISH' (Redis Cluster: sharded pub/sub)
-- Returns {offset, epoch}.

local idempotency_ttl = tonumber(ARGV[7])
if idempotency_ttl > 0 then
  local seen = redis.call('GET', KEYS[3])
  if seen then
    local space = string.find(seen, ' ', 1, true)
    return {tonumber(string.sub(seen, 1, space - 1)), string.sub(seen, space + 1)}
  end
end

local size = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local offset = 0
local epoch = ''
if size > 0 then
  -- The master's replication id changes when a replica is promoted (failover), when the master
  -- restarts, or when the slot moved to another master. Writes acknowledged by the previous
  -- master may be missing here, and their offsets would be handed out again: a new epoch tells
  -- every client so (recovered: false) instead of letting it skip them silently.
  local id = string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)') or ''
  local meta = redis.call('HMGET', KEYS[2], 'e', 'r')
  epoch = meta[1]
  if epoch and meta[2] and meta[2] ~= id then
    epoch = false
    redis.call('DEL', KEYS[1])
  end
  if not epoch then
    epoch = ARGV[6]
    redis.call('HSET', KEYS[2], 'e', epoch)
  end
  if meta[2] ~= id then redis.call('HSET', KEYS[2], 'r', id) end
  offset = redis.call('HINCRBY', KEYS[2], 's', 1)
end

local body = '{"o":' .. offset .. ',"e":"' .. epoch .. '"' .. ARGV[2] .. '}\n' .. ARGV[3]

if size > 0 then
  redis.call('XADD', KEYS[1], 'MAXLEN', size, '*', 'p', body)
  local time = redis.call('TIME')
  local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  -- Entry ids are Redis server milliseconds: everything older than ttl goes.
  redis.call('XTRIM', KEYS[1], 'MINID', now_ms - ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], math.max(ttl, tonumber(ARGV[8])))
end

redis.call(ARGV[9], ARGV[1], 'p' .. body)

if idempotency_ttl > 0 then
  redis.call('SET', KEYS[3], offset .. ' ' .. epoch, 'PX', idempotency_ttl)
end
return {offset, epoch}
