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
// The adaptive state S is the concurrency package's adaptive policy (see
// its documentation), kept in Redis and run by these scripts, so that all
// processes act as one gate: limit (admitted freely), epoch (decreases so
// far), streak (decreases of the epoch with no success between), probe and
// pat (the level of the pending probe admitted one above the limit, zero
// when none, and its admission time, µs), next (earliest next probe, µs),
// raised (the level the last settled probe raised the limit to, while in
// doubt), rr (decaying maximum of the time a 429 takes, µs), fastest
// (shortest response, µs) and rtt (moving average of the latency of the
// other responses, µs). Instants (pat, next, and now) are the Redis
// server's; the durations are what the releasing processes measured.
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
local F = {'limit', 'epoch', 'streak', 'probe', 'pat', 'next', 'raised', 'rr', 'fastest', 'rtt'}
local S = {}
local dirty = false
local function load()
  local v = redis.call('HMGET', KEYS[4], unpack(F))
  for i = 1, #F do S[F[i]] = tonumber(v[i]) or 0 end
  if fixed > 0 then
    S.limit = fixed
    S.probe = 0
    return
  end
  if v[1] then
    S.limit = clamp(S.limit)
    if S.probe > 0 and S.probe ~= S.limit + 1 then S.probe = 0 end
  else
    S.limit = clamp(tonumber(ARGV[5]))
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
-- current is the limit in force: the limit, or the level of a pending probe.
local function current()
  return math.max(S.limit, S.probe)
end
-- gap (µs) is how long a probe must go without a 429 to settle: three
-- times the time a 429 takes (an eighth of the fastest response before
-- any 429 was timed).
local function gap()
  local g = 1000
  if S.rr > 0 then g = 3 * S.rr elseif S.fastest > 0 then g = S.fastest / 8 end
  return math.max(g, 200)
end
-- roundtrip (µs) is the round trip the hold is counted in.
local function roundtrip()
  if S.rtt > 0 then return S.rtt end
  return 50000
end
-- probewait settles a pending probe that went the gap without a 429 (the
-- limit rises to its level) and returns how long (µs) until a request may
-- be admitted above the limit: 0 now, -1 never (the limit is at its
-- maximum).
local function probewait()
  if S.probe > 0 then
    local d = S.pat + gap() - nowus
    if d > 0 then return math.ceil(d) end
    S.limit = S.probe
    S.raised = S.probe
    S.probe = 0
    dirty = true
  end
  if S.limit >= hi then return -1 end
  return math.max(math.ceil(S.next - nowus), 0)
end
-- may reports whether one more request may be admitted with count in
-- flight: freely below the limit, as the one probe at the limit. When not,
-- its second result (µs), when positive, is how long until that may
-- change without a release.
local function may(count)
  if fixed > 0 then return count < S.limit, 0 end
  local d = probewait()
  if count < S.limit then return true, 0 end
  if d > 0 then return false, d end
  if count > S.limit or d < 0 then return false, 0 end
  return true, 0
end
-- admitted records an admission at level x: a probe above the limit.
local function admitted(x)
  if fixed == 0 and x > S.limit then
    S.probe = x
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

// acquireScript admits at once when nobody waits and there is room (below
// the limit, or the one probe at it), else queues a ticket, unless the
// queue is full.
// ARGV[10] id, [11] priority, [12] queue bound.
// Returns {1, limit, epoch, level, base} admitted, where base is the limit
// admitted freely at that moment; {0, limit, epoch, free, wait} queued,
// where wait (µs), when positive, is how long until a probe may settle or
// go; {2, limit, epoch, queued, 0} queue full. The limit returned is the
// limit in force.
var acquireScript = redis.NewScript(prelude + `
load()
local count = redis.call('ZCARD', KEYS[1])
local qlen = redis.call('ZCARD', KEYS[2])
local id = ARGV[10]
local wait = 0
if qlen == 0 then
  local ok, w = may(count)
  if ok then
    redis.call('ZADD', KEYS[1], exp, id)
    admitted(count + 1)
    touch()
    return {1, current(), S.epoch, count + 1, S.limit}
  end
  wait = w
end
if qlen >= tonumber(ARGV[12]) then
  touch()
  return {2, current(), S.epoch, qlen, 0}
end
local seq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
redis.call('ZADD', KEYS[2], string.format('%.0f', tonumber(ARGV[11]) * 1e13 + seq), id)
redis.call('ZADD', KEYS[3], exp, id)
touch()
return {0, current(), S.epoch, S.limit - count, wait}
`)

// admitScript admits those of the caller's tickets that are among the
// first of the queue (priority first, then arrival) that may go now: the
// tickets ahead of them, whoever's they are, take the slots first.
// ARGV[10:] the caller's ticket ids.
// Returns {limit, epoch, wait, id, level, base, id, level, base, ...},
// where wait (µs), when positive, is how long until a probe may settle or
// go, and base is the limit admitted freely when that ticket was admitted.
var admitScript = redis.NewScript(prelude + `
load()
local count = redis.call('ZCARD', KEYS[1])
local out = {0, 0, 0}
local mine = {}
for i = 10, #ARGV do mine[ARGV[i]] = true end
local head = redis.call('ZRANGE', KEYS[2], 0, math.max(S.limit - count, 0))
local ahead = 0
for i = 1, #head do
  local ok, w = may(count + ahead)
  if not ok then
    out[3] = w
    break
  end
  local id = head[i]
  if mine[id] then
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    count = count + 1
    redis.call('ZADD', KEYS[1], exp, id)
    admitted(count)
    out[#out + 1] = id
    out[#out + 1] = count
    out[#out + 1] = S.limit
  else
    ahead = ahead + 1
  end
end
out[1] = current()
out[2] = S.epoch
touch()
return out
`)

// releaseScript removes the lease, learns from how the request went, and
// tells the waiters; or, with ARGV[16] 1, only learns, keeping the lease
// (a response that has started, whose body is not done). ARGV[10] id, [11]
// kind (0 nothing to learn, 1 success, 2 rate limited, 3 platform busy),
// [12] level, [13] epoch at admission, [14] latency µs, [15] base: the
// limit admitted freely at admission, [16] 1 to keep the lease.
// Returns {limit, epoch}.
var releaseScript = redis.NewScript(prelude + `
load()
local keep = ARGV[16] == '1'
if not keep then redis.call('ZREM', KEYS[1], ARGV[10]) end
local count = redis.call('ZCARD', KEYS[1])
local qlen = redis.call('ZCARD', KEYS[2])
local kind = tonumber(ARGV[11])
if fixed == 0 then
  local x = tonumber(ARGV[12])
  local ep = tonumber(ARGV[13])
  local lat = tonumber(ARGV[14])
  -- lower brings the limit down to at most l (and at least lo), dropping
  -- a pending probe above it.
  local function lower(l)
    if l < S.limit then
      S.limit = math.max(l, lo)
      S.probe = 0
      S.raised = 0
    end
  end
  if lat > 0 then
    dirty = true
    if S.fastest == 0 or lat < S.fastest then S.fastest = lat end
    if kind == 2 then
      S.rr = math.max(lat, S.rr - math.floor(S.rr / 8))
    elseif S.rtt == 0 then
      S.rtt = lat
    else
      S.rtt = S.rtt + (lat - S.rtt) / 8
    end
  end
  if kind == 2 then
    -- A failed probe (above the limit, of this epoch) leaves the limit;
    -- any other 429 bounds it by x-1 and by the requests still in flight.
    -- Only the first 429 of an epoch holds probing off and counts toward
    -- a drop.
    dirty = true
    local old = S.limit
    local cur = ep == S.epoch
    local probed = false
    if cur then
      S.epoch = S.epoch + 1
      S.probe = 0
      S.next = nowus + 5 * roundtrip()
      probed = x > old
    end
    if not probed then
      lower(math.min(x - 1, count))
      if cur then
        S.streak = S.streak + 1
        if S.streak >= 3 then
          lower(math.floor(x / 2))
          S.streak = 0
        end
      end
    end
  elseif kind == 3 then
    -- The platform is full: the pending probe does not count, the raises
    -- made since this request was admitted are undone (back to its base;
    -- the sign comes when the response starts, so these are the raises made
    -- while it waited), so is a raise to x or below it, and the next probe
    -- waits a round trip.
    dirty = true
    S.probe = 0
    local to = S.limit
    if S.raised > 0 and x >= S.raised then
      to = S.raised - 1
      S.raised = 0
    end
    lower(math.min(to, tonumber(ARGV[15])))
    S.next = nowus + roundtrip()
  elseif kind == 1 then
    if ep == S.epoch and S.streak > 0 then
      S.streak = 0
      dirty = true
    end
    if S.raised > 0 and x >= S.raised then
      S.raised = 0
      dirty = true
    end
  end
end
if qlen > 0 and not keep then redis.call('PUBLISH', ARGV[8], ARGV[9]) end
touch()
return {current(), S.epoch}
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
local out = {current(), S.epoch}
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
// force is the learned limit, or the level of a pending probe.
var statsScript = redis.NewScript(prelude + `
load()
local out = {current(), redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])}
touch()
return out
`)
