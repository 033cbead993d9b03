package redislimit

import (
	"strconv"
	"strings"
	"time"

	"github.com/pacerhttp/pacer/internal/policy"
	"github.com/redis/go-redis/v9"
)

// The scripts share one calling convention, so they share a prelude.
//
// KEYS: 1 leases (sorted set: lease id -> expiry, ms of server time),
// 2 queue (sorted set: ticket id -> priority*1e13 + arrival sequence),
// 3 tickets (sorted set: ticket id -> expiry), 4 state (hash: the limit,
// its learning state, and the arrival sequence).
//
// ARGV: 1 lease TTL ms, 2 TTL ms of the sorted sets, 3 TTL ms of the state
// hash, 4 fixed limit (0: adaptive), 5 initial, 6 min, 7 max limit,
// 8 pub/sub channel, 9 the limiter key (published on release), 10 the
// cold start's growth per round trip (at most 1: none). Each script's own
// arguments start at ARGV[11].
//
// Time is the server's (TIME), so the clocks of the processes never meet;
// the prelude's ${clock} sets nowus, the server's time in µs. The policy's
// constants are written into the text as ${name} from package policy,
// the durations in µs: the scripts and the in-process limiter share them.
// Every call purges expired leases and expired tickets first, and resets
// the expiry of every key it touches: nothing outlives its use.
//
// The adaptive state S is the concurrency package's adaptive policy (see
// its documentation), kept in Redis and run by these scripts, so that all
// processes act as one gate: limit (admitted freely), epoch (decreases so
// far), streak and sat (decreases of the epoch with no success between,
// each within a window of the one before, and when the last was, µs), probe,
// pleft and pat (the top level of the pending probe, a block of levels
// above the limit, zero when none; how many of its requests may still go;
// and when its first went, µs), next (earliest next probe, µs), raised and
// rfrom (the limits after and before the last settled probe, while it is
// in doubt), rr (decaying maximum of the time a 429 takes, µs), fastest
// (shortest response, µs), rtt (moving average of the latency of the
// other responses, µs), held (moving average of how long a success held
// its permit, µs), slow (1 during the fast cold start), answered (1 once a
// success or a 429 came back: no probe goes before) and climb (probes
// settled in a row since the last 429 or busy sign). Instants (pat, next,
// and now) are the Redis server's; the durations are what the releasing
// processes measured.
const prelude = `
local ttl = tonumber(ARGV[1])
local ztl = tonumber(ARGV[2])
local stl = tonumber(ARGV[3])
local fixed = tonumber(ARGV[4])
local lo = tonumber(ARGV[6])
local hi = tonumber(ARGV[7])
local growth = tonumber(ARGV[10])
${clock}
local now = math.floor(nowus / 1000)
local exp = string.format('%.0f', now + ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
if #dead > 0 then
  for i = 1, #dead do redis.call('ZREM', KEYS[2], dead[i]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
end
local function clampn(v, a, b)
  if v < a then return a end
  if v > b then return b end
  return v
end
local function clamp(v) return clampn(v, lo, hi) end
local F = {'limit', 'epoch', 'streak', 'sat', 'probe', 'pleft', 'pat', 'next', 'raised', 'rfrom',
  'rr', 'fastest', 'rtt', 'held', 'slow', 'answered', 'climb'}
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
    if S.probe <= S.limit then S.probe = 0 end
  else
    S.limit = clamp(tonumber(ARGV[5]))
    if growth > 1 then S.slow = 1 end
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
-- times the time a 429 takes; before any 429 was timed, an eighth of a
-- permit's hold, but no more than three times the fastest response and
-- no less than an eighth of it.
local function gap()
  local g = ${defaultGap}
  if S.rr > 0 then
    g = ${gapRejects} * S.rr
  elseif S.fastest > 0 then
    g = math.max(S.fastest / ${guessShare}, math.min(${gapRejects} * S.fastest, S.held / ${guessShare}))
  end
  return math.max(g, ${minGap})
end
-- roundtrip (µs) is the round trip the hold and the cold start are
-- counted in: a permit's hold, or the latency when that is all there is,
-- within 10 s.
local function roundtrip()
  local rt = math.max(S.rtt, S.held)
  if rt <= 0 then return ${defaultRTT} end
  return math.min(rt, ${maxRTT})
end
-- step is the size of the next probe: during the fast cold start, the
-- growth a gap allows at growth per round trip; after it, 2^climb levels
-- within an eighth of the limit; at least 1, at most 16.
local function step()
  if S.slow == 1 then
    local f = growth ^ (gap() / roundtrip()) - 1
    return clampn(math.floor(S.limit * f), 1, ${slowBurst})
  end
  return clampn(2 ^ S.climb, 1, clampn(math.floor(S.limit / ${climbShare}), 1, ${slowBurst}))
end
-- probewait settles a pending probe that went the gap without a 429 (the
-- limit rises to its top) and returns how long (µs) until a request may
-- be admitted above the limit: 0 now (a new probe, or the rest of a
-- pending one), -1 never (the limit is at its maximum, or nothing was
-- answered yet).
local function probewait()
  if S.probe > 0 then
    local d = S.pat + gap() - nowus
    if d > 0 then
      if S.pleft > 0 then return 0 end
      return math.ceil(d)
    end
    S.rfrom = S.limit
    S.limit = S.probe
    S.raised = S.probe
    S.probe = 0
    S.pleft = 0
    S.climb = math.min(S.climb + 1, ${maxClimb})
    dirty = true
  end
  if S.limit >= hi or S.answered == 0 then return -1 end
  return math.max(math.ceil(S.next - nowus), 0)
end
-- may reports whether one more request may be admitted with count in
-- flight: freely below the limit, as part of a probe above it. When not,
-- its second result (µs), when positive, is how long until that may
-- change without a release.
local function may(count)
  if fixed > 0 then return count < S.limit, 0 end
  local d = probewait()
  if count < S.limit then return true, 0 end
  if S.probe > 0 then
    if S.pleft > 0 and count < S.probe then return true, 0 end
    return false, math.max(d, 0)
  end
  if d > 0 then return false, d end
  if count > S.limit or d < 0 then return false, 0 end
  return true, 0
end
-- admitted records an admission at level x: above the limit, part of a
-- probe, or the first of a new one.
local function admitted(x)
  if fixed > 0 or x <= S.limit then return end
  if S.probe == 0 then
    local n = math.min(step(), hi - S.limit)
    S.probe = S.limit + n
    S.pleft = n - 1
    S.pat = nowus
  elseif S.pleft > 0 then
    S.pleft = S.pleft - 1
  end
  dirty = true
end
local function touch()
  save()
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ztl) end
  redis.call('PEXPIRE', KEYS[4], stl)
end
`

// serverClock is the Lua that sets nowus from the Redis server's clock.
const serverClock = `local t = redis.call('TIME')
local nowus = tonumber(t[1]) * 1000000 + tonumber(t[2])`

// script is the script whose text is the prelude and body, expanded with
// the server's clock.
func script(body string) *redis.Script {
	return redis.NewScript(expand(prelude+body, serverClock))
}

// expand writes clock and the policy's constants into a script's text.
func expand(text, clock string) string {
	us := func(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) }
	return strings.NewReplacer(
		"${clock}", clock,
		"${holdRTTs}", strconv.Itoa(policy.HoldRTTs),
		"${dropStreak}", strconv.Itoa(policy.DropStreak),
		"${gapRejects}", strconv.Itoa(policy.GapRejects),
		"${guessShare}", strconv.Itoa(policy.GuessShare),
		"${climbShare}", strconv.Itoa(policy.ClimbShare),
		"${smoothing}", strconv.Itoa(policy.Smoothing),
		"${slowBurst}", strconv.Itoa(policy.SlowBurst),
		"${maxClimb}", strconv.Itoa(policy.MaxClimb),
		"${defaultGap}", us(policy.DefaultGap),
		"${minGap}", us(policy.MinGap),
		"${defaultRTT}", us(policy.DefaultRTT),
		"${maxRTT}", us(policy.MaxRTT),
	).Replace(text)
}

// acquireScript admits at once when nobody waits and there is room (below
// the limit, or the one probe at it), else queues a ticket, unless the
// queue is full.
// ARGV[11] id, [12] priority, [13] queue bound.
// Returns {1, limit, epoch, level, base} admitted, where base is the limit
// admitted freely at that moment; {0, limit, epoch, free, wait} queued,
// where wait (µs), when positive, is how long until a probe may settle or
// go; {2, limit, epoch, queued, 0} queue full. The limit returned is the
// limit in force.
var acquireScript = script(acquireBody)

const acquireBody = `
load()
local count = redis.call('ZCARD', KEYS[1])
local qlen = redis.call('ZCARD', KEYS[2])
local id = ARGV[11]
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
if qlen >= tonumber(ARGV[13]) then
  touch()
  return {2, current(), S.epoch, qlen, 0}
end
local seq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
redis.call('ZADD', KEYS[2], string.format('%.0f', tonumber(ARGV[12]) * 1e13 + seq), id)
redis.call('ZADD', KEYS[3], exp, id)
touch()
return {0, current(), S.epoch, S.limit - count, wait}
`

// admitScript admits those of the caller's tickets that are among the
// first of the queue (priority first, then arrival) that may go now: the
// tickets ahead of them, whoever's they are, take the slots first.
// ARGV[11:] the caller's ticket ids.
// Returns {limit, epoch, wait, id, level, base, id, level, base, ...},
// where wait (µs), when positive, is how long until a probe may settle or
// go, and base is the limit admitted freely when that ticket was admitted.
var admitScript = script(admitBody)

const admitBody = `
load()
local count = redis.call('ZCARD', KEYS[1])
local out = {0, 0, 0}
local mine = {}
for i = 11, #ARGV do mine[ARGV[i]] = true end
local head = redis.call('ZRANGE', KEYS[2], 0, math.max(S.limit + ${slowBurst} - count, 0))
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
`

// releaseScript removes the lease, learns from how the request went, and
// tells the waiters; or, with ARGV[17] 1, only learns, keeping the lease
// (a response that has started, whose body is not done). ARGV[11] id, [12]
// kind (0 nothing to learn, 1 success, 2 rate limited, 3 platform busy),
// [13] level, [14] epoch at admission, [15] latency µs, [16] base: the
// limit admitted freely at admission, [17] 1 to keep the lease, [18] how
// long the permit was held, µs (admission to release).
// Returns {limit, epoch}.
var releaseScript = script(releaseBody)

const releaseBody = `
load()
local keep = ARGV[17] == '1'
if not keep then redis.call('ZREM', KEYS[1], ARGV[11]) end
local count = redis.call('ZCARD', KEYS[1])
local qlen = redis.call('ZCARD', KEYS[2])
local kind = tonumber(ARGV[12])
if fixed == 0 then
  local x = tonumber(ARGV[13])
  local ep = tonumber(ARGV[14])
  local lat = tonumber(ARGV[15])
  -- lower brings the limit down to at most l (and at least lo), dropping
  -- a pending probe above it.
  local function lower(l)
    if l < S.limit then
      S.limit = math.max(l, lo)
      S.probe = 0
      S.raised = 0
    end
  end
  if kind == 1 or kind == 2 then
    if S.answered == 0 then dirty = true end
    S.answered = 1
  end
  local hold = tonumber(ARGV[18])
  if kind == 1 and hold > 0 then
    dirty = true
    if S.held == 0 then S.held = hold else S.held = S.held + (hold - S.held) / ${smoothing} end
  end
  if lat > 0 then
    dirty = true
    if S.fastest == 0 or lat < S.fastest then S.fastest = lat end
    if kind == 2 then
      S.rr = math.max(lat, S.rr - math.floor(S.rr / ${smoothing}))
    elseif S.rtt == 0 then
      S.rtt = lat
    else
      S.rtt = S.rtt + (lat - S.rtt) / ${smoothing}
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
    S.slow = 0
    if cur then
      S.epoch = S.epoch + 1
      S.probe = 0
      S.climb = 0
      S.next = nowus + ${holdRTTs} * roundtrip()
      probed = x > old
    end
    if not probed then
      lower(math.min(x - 1, count))
      if cur then
        -- Decreases further apart than a gap and a request's share of a
        -- round trip are the limit found again, not a drop.
        local window = gap() + roundtrip() / math.max(S.limit, 1)
        if S.streak > 0 and nowus - S.sat > window then S.streak = 0 end
        S.sat = nowus
        S.streak = S.streak + 1
        if S.streak >= ${dropStreak} then
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
    S.slow = 0
    S.climb = 0
    local to = S.limit
    if S.raised > 0 and x > S.rfrom then
      to = S.rfrom
      S.raised = 0
    end
    lower(math.min(to, tonumber(ARGV[16])))
    S.next = nowus + roundtrip()
  elseif kind == 1 then
    if ep == S.epoch and S.streak > 0 then
      S.streak = 0
      dirty = true
    end
    if S.raised > 0 and x > S.rfrom then
      S.raised = 0
      dirty = true
    end
  end
end
if qlen > 0 and not keep then redis.call('PUBLISH', ARGV[8], ARGV[9]) end
touch()
return {current(), S.epoch}
`

// cancelScript removes a ticket, and the lease it may have become while
// its holder gave up. ARGV[11] id. Returns {1} when a lease was removed,
// else {0}.
var cancelScript = script(cancelBody)

const cancelBody = `
redis.call('ZREM', KEYS[2], ARGV[11])
redis.call('ZREM', KEYS[3], ARGV[11])
local had = redis.call('ZREM', KEYS[1], ARGV[11])
if had > 0 and redis.call('ZCARD', KEYS[2]) > 0 then redis.call('PUBLISH', ARGV[8], ARGV[9]) end
touch()
return {had}
`

// renewScript extends the leases and tickets a process holds, and puts
// back the leases Redis lost (expired during an outage longer than the TTL,
// or lost with the server's data): their requests are still in flight.
// ARGV[11] n, then n lease ids, then ticket ids.
// Returns {limit, epoch, lost ticket ids...}: tickets neither queued nor
// admitted (lost with the server's data, or expired).
var renewScript = script(renewBody)

const renewBody = `
load()
local n = tonumber(ARGV[11])
local out = {current(), S.epoch}
for i = 12, 11 + n do redis.call('ZADD', KEYS[1], exp, ARGV[i]) end
for i = 12 + n, #ARGV do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[2], id) then
    redis.call('ZADD', KEYS[3], exp, id)
  elseif not redis.call('ZSCORE', KEYS[1], id) then
    out[#out + 1] = id
  end
end
touch()
return out
`

// statsScript returns {limit in force, in flight, queued}: the limit in
// force is the learned limit, or the level of a pending probe.
var statsScript = script(statsBody)

const statsBody = `
load()
local out = {current(), redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])}
touch()
return out
`
