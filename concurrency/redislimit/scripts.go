package redislimit

import "github.com/redis/go-redis/v9"

// The scripts share one calling convention, so they share a prelude.
//
// KEYS: 1 leases (sorted set: lease id -> expiry, ms of server time),
// 2 queue (sorted set: ticket id -> priority*1e13 + arrival sequence),
// 3 tickets (sorted set: ticket id -> expiry), 4 state (hash: the limit
// and its learning state, and the arrival sequence).
//
// ARGV: 1 lease TTL ms, 2 TTL ms of the sorted sets, 3 TTL ms of the state
// hash, 4 fixed limit (0: adaptive), 5 initial, 6 min, 7 max limit,
// 8 pub/sub channel, 9 the limiter key (published on release). Each
// script's own arguments start at ARGV[10].
//
// Time is the server's (TIME), so the clocks of the processes never meet.
// Every call purges expired leases and expired tickets first, and resets
// the expiry of every key it touches: nothing outlives its use.
const prelude = `
local ttl = tonumber(ARGV[1])
local ztl = tonumber(ARGV[2])
local stl = tonumber(ARGV[3])
local fixed = tonumber(ARGV[4])
local lo = tonumber(ARGV[6])
local hi = tonumber(ARGV[7])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exp = string.format('%.0f', now + ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
if #dead > 0 then
  for i = 1, #dead do redis.call('ZREM', KEYS[2], dead[i]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
end
local function clamp(v)
  if v < lo then return lo end
  if v > hi then return hi end
  return v
end
local limit, epoch
local function load()
  local v = redis.call('HMGET', KEYS[4], 'limit', 'epoch')
  epoch = tonumber(v[2]) or 0
  if fixed > 0 then
    limit = fixed
    return
  end
  limit = tonumber(v[1])
  if limit then
    limit = clamp(limit)
  else
    limit = clamp(tonumber(ARGV[5]))
    redis.call('HSET', KEYS[4], 'limit', limit, 'epoch', epoch)
  end
end
local function touch()
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ztl) end
  redis.call('PEXPIRE', KEYS[4], stl)
end
`

// acquireScript admits at once when nobody waits and there is room, else
// queues a ticket, unless the queue is full.
// ARGV[10] id, [11] priority, [12] queue bound.
// Returns {1, limit, epoch, level} admitted, {0, limit, epoch, free}
// queued, {2, limit, epoch, queued} queue full.
var acquireScript = redis.NewScript(prelude + `
load()
local count = redis.call('ZCARD', KEYS[1])
local qlen = redis.call('ZCARD', KEYS[2])
local id = ARGV[10]
if qlen == 0 and count < limit then
  redis.call('ZADD', KEYS[1], exp, id)
  touch()
  return {1, limit, epoch, count + 1}
end
if qlen >= tonumber(ARGV[12]) then
  touch()
  return {2, limit, epoch, qlen}
end
local seq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
redis.call('ZADD', KEYS[2], string.format('%.0f', tonumber(ARGV[11]) * 1e13 + seq), id)
redis.call('ZADD', KEYS[3], exp, id)
touch()
return {0, limit, epoch, limit - count}
`)

// admitScript admits those of the caller's tickets that are among the
// first (limit - in flight) of the queue: priority first, then arrival.
// ARGV[10:] the caller's ticket ids.
// Returns {limit, epoch, id, level, id, level, ...}.
var admitScript = redis.NewScript(prelude + `
load()
local count = redis.call('ZCARD', KEYS[1])
local out = {limit, epoch}
local free = limit - count
if free > 0 then
  local mine = {}
  for i = 10, #ARGV do mine[ARGV[i]] = true end
  local head = redis.call('ZRANGE', KEYS[2], 0, free - 1)
  for i = 1, #head do
    local id = head[i]
    if mine[id] then
      redis.call('ZREM', KEYS[2], id)
      redis.call('ZREM', KEYS[3], id)
      count = count + 1
      redis.call('ZADD', KEYS[1], exp, id)
      out[#out + 1] = id
      out[#out + 1] = count
    end
  end
end
touch()
return out
`)

// releaseScript learns from how the request went, removes the lease and
// tells the waiters. ARGV[10] id, [11] kind (0 nothing to learn, 1 success,
// 2 rate limited, 3 platform busy), [12] level, [13] epoch at admission,
// [14] the limit the releasing process last saw.
// Returns {limit, epoch}.
var releaseScript = redis.NewScript(prelude + `
load()
local count = redis.call('ZCARD', KEYS[1])
local qlen = redis.call('ZCARD', KEYS[2])
local kind = tonumber(ARGV[11])
if fixed == 0 and kind > 0 then
  local x = tonumber(ARGV[12])
  local ep = tonumber(ARGV[13])
  local seen = tonumber(ARGV[14])
  local v = redis.call('HMGET', KEYS[4], 'best', 'since', 'suspect', 'ceiling', 'credit', 'hold', 'probefrom')
  local best = tonumber(v[1]) or 0
  local since = tonumber(v[2]) or 0
  local suspect = tonumber(v[3]) or 0
  local ceiling = tonumber(v[4]) or 0
  local credit = tonumber(v[5]) or 0
  local hold = tonumber(v[6]) or 1
  local probefrom = tonumber(v[7]) or 0
  local function raise()
    local top = hi
    if ceiling > 0 and ceiling < top then top = ceiling end
    if limit < top then
      limit = limit + 1
      credit = 0
    end
  end
  if kind == 2 then
    if ep == epoch then
      epoch = epoch + 1
      if x <= best and suspect == 1 then
        limit = clamp(math.floor(x / 2))
        hold = 1
        best = 0
        since = epoch
        suspect = 0
      else
        if x <= best then suspect = 1 else suspect = 0 end
        limit = clamp(x - 1)
        if probefrom > 0 and x - 1 <= probefrom then hold = math.min(2 * hold, 4) else hold = 1 end
      end
      probefrom = 0
      ceiling = math.max(x - 1, lo)
      credit = 0
    end
  elseif kind == 3 then
    credit = 0
    if ceiling == 0 or ceiling > limit then ceiling = limit end
    probefrom = 0
  else
    if ep >= since and x > best then best = x end
    if ep == epoch then
      suspect = 0
      if qlen > 0 or count >= limit then
        if ceiling == 0 or limit < ceiling then
          if seen == limit then raise() end
        else
          credit = credit + 1
          if credit >= hold * limit and seen == limit then
            credit = 0
            probefrom = ceiling
            ceiling = 0
            raise()
          end
        end
      end
    end
  end
  redis.call('HSET', KEYS[4], 'limit', limit, 'epoch', epoch, 'best', best, 'since', since,
    'suspect', suspect, 'ceiling', ceiling, 'credit', credit, 'hold', hold, 'probefrom', probefrom)
end
redis.call('ZREM', KEYS[1], ARGV[10])
if qlen > 0 then redis.call('PUBLISH', ARGV[8], ARGV[9]) end
touch()
return {limit, epoch}
`)

// cancelScript removes a ticket, and the lease it may have become while
// its holder gave up. ARGV[10] id. Returns 1 when a lease was removed.
var cancelScript = redis.NewScript(prelude + `
redis.call('ZREM', KEYS[2], ARGV[10])
redis.call('ZREM', KEYS[3], ARGV[10])
local had = redis.call('ZREM', KEYS[1], ARGV[10])
if had > 0 and redis.call('ZCARD', KEYS[2]) > 0 then redis.call('PUBLISH', ARGV[8], ARGV[9]) end
touch()
return had
`)

// renewScript extends the leases and tickets a process holds.
// ARGV[10] n, then n lease ids, then ticket ids.
// Returns {limit, epoch, lost ticket ids...}: tickets neither queued nor
// admitted (lost with the server's data, or expired).
var renewScript = redis.NewScript(prelude + `
load()
local n = tonumber(ARGV[10])
local out = {limit, epoch}
for i = 11, 10 + n do redis.call('ZADD', KEYS[1], 'XX', exp, ARGV[i]) end
for i = 11 + n, #ARGV do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[2], id) then
    redis.call('ZADD', KEYS[3], exp, id)
  elseif not redis.call('ZSCORE', KEYS[1], id) then
    out[#out + 1] = id
  end
end
touch()
return out
`)

// statsScript returns {limit, in flight, queued}.
var statsScript = redis.NewScript(prelude + `
load()
local out = {limit, redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])}
touch()
return out
`)
