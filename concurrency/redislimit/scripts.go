package redislimit

import "github.com/redis/go-redis/v9"

// The scripts share one calling convention, so they share a prelude.
//
// KEYS: 1 leases (sorted set: lease id -> expiry, ms of server time),
// 2 queue (sorted set: ticket id -> priority*1e13 + arrival sequence),
// 3 tickets (sorted set: ticket id -> expiry), 4 state (hash: the limit,
// its learning state, and the arrival sequence).
//
// ARGV: 1 lease TTL ms, 2 TTL ms of the sorted sets, 3 TTL ms of the state
// hash, 4 fixed limit (0: adaptive), 5 initial, 6 min, 7 max limit,
// 8 pub/sub channel, 9 the limiter key (published on release). Each
// script's own arguments start at ARGV[10].
//
// Time is the server's (TIME), so the clocks of the processes never meet.
// Every call purges expired leases and expired tickets first, and resets
// the expiry of every key it touches: nothing outlives its use.
//
// The adaptive state S mirrors the in-process limiter's (the concurrency
// package's adaptive type): limit, epoch (decreases so far), safe (levels
// up to it are admitted freely, one above it only as a probe, one probe
// gap apart), ceiling, streak, struck, plevel and pat (the pending probe's
// level and admission time, µs), credit, hold, pfrom (the ceiling a probe
// started from), rr (decaying maximum of the time a 429 takes, µs) and
// fastest (shortest response, µs).
const prelude = `
local ttl = tonumber(ARGV[1])
local ztl = tonumber(ARGV[2])
local stl = tonumber(ARGV[3])
local fixed = tonumber(ARGV[4])
local lo = tonumber(ARGV[6])
local hi = tonumber(ARGV[7])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowus = tonumber(t[1]) * 1000000 + tonumber(t[2])
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
local F = {'limit', 'epoch', 'safe', 'ceiling', 'streak', 'struck', 'plevel', 'pat', 'credit', 'hold', 'pfrom', 'rr', 'fastest'}
local S = {}
local dirty = false
local function load()
  local v = redis.call('HMGET', KEYS[4], unpack(F))
  for i = 1, #F do S[F[i]] = tonumber(v[i]) or 0 end
  if fixed > 0 then
    S.limit = fixed
    S.safe = fixed
    return
  end
  if v[1] then
    S.limit = clamp(S.limit)
    if S.hold < 1 then S.hold = 1 end
  else
    S.limit = clamp(tonumber(ARGV[5]))
    S.safe = S.limit
    S.hold = 1
    dirty = true
  end
end
local function save()
  if fixed > 0 or not dirty then return end
  local a = {}
  for i = 1, #F do
    a[#a + 1] = F[i]
    a[#a + 1] = string.format('%.0f', S[F[i]])
  end
  redis.call('HSET', KEYS[4], unpack(a))
end
local function current()
  return math.min(S.limit, S.safe + 1)
end
local function gap()
  local g = 1000
  if S.rr > 0 then g = 3 * S.rr elseif S.fastest > 0 then g = S.fastest / 4 end
  return math.max(g, 200)
end
-- pace returns how long (µs) an admission at level x must wait; 0 is now.
local function pace(x)
  if fixed > 0 or x <= S.safe then return 0 end
  if S.plevel > 0 then
    local d = S.pat + gap() - nowus
    if d > 0 then return math.ceil(d) end
    if S.plevel > S.safe then S.safe = S.plevel end
    S.plevel = 0
    dirty = true
  end
  return 0
end
local function admitted(x)
  if fixed == 0 and x > S.safe then
    S.plevel = x
    S.pat = nowus
    dirty = true
  end
end
local function touch()
  save()
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ztl) end
  redis.call('PEXPIRE', KEYS[4], stl)
end
`

// acquireScript admits at once when nobody waits and there is room, else
// queues a ticket, unless the queue is full.
// ARGV[10] id, [11] priority, [12] queue bound.
// Returns {1, limit, epoch, level} admitted; {0, limit, epoch, free, wait}
// queued, where wait (µs), when positive, is how long until a paced
// admission may go; {2, limit, epoch, queued} queue full.
var acquireScript = redis.NewScript(prelude + `
load()
local count = redis.call('ZCARD', KEYS[1])
local qlen = redis.call('ZCARD', KEYS[2])
local id = ARGV[10]
local wait = 0
if qlen == 0 and count < S.limit then
  wait = pace(count + 1)
  if wait == 0 then
    redis.call('ZADD', KEYS[1], exp, id)
    admitted(count + 1)
    touch()
    return {1, S.limit, S.epoch, count + 1}
  end
end
if qlen >= tonumber(ARGV[12]) then
  touch()
  return {2, S.limit, S.epoch, qlen}
end
local seq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
redis.call('ZADD', KEYS[2], string.format('%.0f', tonumber(ARGV[11]) * 1e13 + seq), id)
redis.call('ZADD', KEYS[3], exp, id)
touch()
return {0, S.limit, S.epoch, S.limit - count, wait}
`)

// admitScript admits those of the caller's tickets that are among the
// first (limit - in flight) of the queue: priority first, then arrival.
// ARGV[10:] the caller's ticket ids.
// Returns {limit, epoch, wait, id, level, id, level, ...}, where wait (µs),
// when positive, is how long until a paced admission may go.
var admitScript = redis.NewScript(prelude + `
load()
local count = redis.call('ZCARD', KEYS[1])
local out = {S.limit, S.epoch, 0}
local free = S.limit - count
if free > 0 then
  local mine = {}
  for i = 10, #ARGV do mine[ARGV[i]] = true end
  local head = redis.call('ZRANGE', KEYS[2], 0, free - 1)
  for i = 1, #head do
    local id = head[i]
    if mine[id] then
      local w = pace(count + 1)
      if w > 0 then
        out[3] = w
        break
      end
      redis.call('ZREM', KEYS[2], id)
      redis.call('ZREM', KEYS[3], id)
      count = count + 1
      redis.call('ZADD', KEYS[1], exp, id)
      admitted(count)
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
// [14] the limit the releasing process last saw, [15] latency µs.
// Returns {limit, epoch}.
var releaseScript = redis.NewScript(prelude + `
load()
local count = redis.call('ZCARD', KEYS[1])
local qlen = redis.call('ZCARD', KEYS[2])
local kind = tonumber(ARGV[11])
if fixed == 0 and kind > 0 then
  dirty = true
  local x = tonumber(ARGV[12])
  local ep = tonumber(ARGV[13])
  local seen = tonumber(ARGV[14])
  local lat = tonumber(ARGV[15])
  local function raise()
    local top = math.min(hi, 2 * S.safe + 1)
    if S.ceiling > 0 then top = math.min(top, S.ceiling) end
    if S.limit < top then S.limit = S.limit + 1 end
  end
  if lat > 0 then
    if S.fastest == 0 or lat < S.fastest then S.fastest = lat end
    if kind == 2 then S.rr = math.max(lat, S.rr - S.rr / 8) end
  end
  if kind == 2 then
    if ep ~= S.epoch then
      if x <= S.safe then S.safe = math.max(x - 1, lo) end
    else
      S.epoch = S.epoch + 1
      S.credit = 0
      S.streak = S.streak + 1
      if S.streak >= 3 then
        S.limit = clamp(math.floor(x / 2))
        S.hold = 1
        S.streak = 0
        S.ceiling = 0
        S.pfrom = 0
        S.struck = 0
      elseif x <= S.ceiling and not (x == S.ceiling and S.struck == 1) then
        S.limit = clamp(x - 1)
        if x == S.ceiling then S.struck = 1 end
      else
        S.limit = clamp(x - 1)
        if S.pfrom > 0 and x - 1 <= S.pfrom then S.hold = math.min(2 * S.hold, 4) else S.hold = 1 end
        S.pfrom = 0
        S.ceiling = math.max(x - 1, lo)
        S.struck = 0
      end
      S.safe = S.limit
      S.plevel = 0
    end
  elseif kind == 3 then
    S.credit = 0
    if S.ceiling == 0 or S.ceiling > S.limit then S.ceiling = S.limit end
    S.pfrom = 0
  elseif ep == S.epoch then
    S.streak = 0
    if x > S.safe then S.safe = x end
    if qlen > 0 or count >= S.limit then
      if S.ceiling == 0 or S.limit < S.ceiling then
        if seen == S.limit then raise() end
      else
        S.credit = S.credit + 1
        if S.credit >= S.hold * S.limit and seen == S.limit then
          S.credit = 0
          S.struck = 0
          S.pfrom = S.ceiling
          S.ceiling = 0
          raise()
        end
      end
    end
  end
end
redis.call('ZREM', KEYS[1], ARGV[10])
if qlen > 0 then redis.call('PUBLISH', ARGV[8], ARGV[9]) end
touch()
return {S.limit, S.epoch}
`)

// cancelScript removes a ticket, and the lease it may have become while
// its holder gave up. ARGV[10] id. Returns {1} when a lease was removed,
// else {0}.
var cancelScript = redis.NewScript(prelude + `
redis.call('ZREM', KEYS[2], ARGV[10])
redis.call('ZREM', KEYS[3], ARGV[10])
local had = redis.call('ZREM', KEYS[1], ARGV[10])
if had > 0 and redis.call('ZCARD', KEYS[2]) > 0 then redis.call('PUBLISH', ARGV[8], ARGV[9]) end
touch()
return {had}
`)

// renewScript extends the leases and tickets a process holds.
// ARGV[10] n, then n lease ids, then ticket ids.
// Returns {limit, epoch, lost ticket ids...}: tickets neither queued nor
// admitted (lost with the server's data, or expired).
var renewScript = redis.NewScript(prelude + `
load()
local n = tonumber(ARGV[10])
local out = {S.limit, S.epoch}
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

// statsScript returns {limit in force, in flight, queued}: the limit in
// force is the learned limit, or one above the safe level when that is
// lower (levels above it are only probed).
var statsScript = redis.NewScript(prelude + `
load()
local out = {current(), redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])}
touch()
return out
`)
