package concurrency

import (
	"container/heap"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// simServer is a deterministic discrete-event model of a rate-limited API
// (the shape llmtest serves) driven by the real in-process limiter with an
// unbounded supply of work: each admitted request is answered 429 at once
// when the server's in-flight count is at its limit, and served for
// service otherwise. Time is virtual.
type simServer struct {
	phases    []simPhase
	service   time.Duration
	fast      time.Duration // latency of a 429
	lag       time.Duration // from the server's last byte to the client's release
	jitter    time.Duration // added to service, uniformly at random
	headers   time.Duration // when positive, a stream: the time to headers the gate measures
	backlog   int           // requests kept waiting in the queue
	punish    bool          // > 30 429s within 1s halve the limit for 2s
	requests  int           // stop after this many successes
	maxTime   time.Duration // or after this much virtual time
	onRelease func(t time.Duration, limit int)
	trace     func(t time.Duration, level int, epoch uint64, ok bool)
}

type simPhase struct {
	limit int
	d     time.Duration
}

type simResult struct {
	ok, limited   int
	elapsed       time.Duration
	limitIntegral float64 // effective limit · seconds
	punished      int
}

// goodputRatio is successes per second over the ideal: the mean limit
// over the mean time a request holds a slot.
func (r simResult) goodputRatio(s *simServer) float64 {
	hold := s.service + s.jitter/2 + s.lag
	return float64(r.ok) * hold.Seconds() / r.limitIntegral
}

func (r simResult) share429() float64 { return float64(r.limited) / float64(r.ok+r.limited) }

type simEvent struct {
	at      time.Duration
	seq     int
	pm      *localPermit
	ok      bool
	serverT bool // server-side end of an admitted request
	kick    bool // a probe-gap timer
	latency time.Duration
	sent    time.Duration // when the request was admitted
}

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (s *simServer) base(t time.Duration) int {
	var cycle time.Duration
	for _, p := range s.phases {
		cycle += p.d
	}
	t %= cycle
	for _, p := range s.phases {
		if t < p.d {
			return p.limit
		}
		t -= p.d
	}
	return s.phases[len(s.phases)-1].limit
}

func (s *simServer) run(l *localLimiter) simResult {
	ks := l.state("sim")
	var (
		q          simQueue
		seq        int
		now        time.Duration
		inServer   int
		res        simResult
		recent429  []time.Duration
		punishTill time.Duration = -1
		lastT      time.Duration
		rnd        uint64 = 1
	)
	effective := func(t time.Duration) int {
		b := s.base(t)
		if t < punishTill {
			b = max(b/2, 1)
		}
		return b
	}
	push := func(e simEvent) {
		seq++
		e.seq = seq
		heap.Push(&q, e)
	}
	var waiting []*waiter
	dispatch := func(pm *localPermit) {
		if inServer >= effective(now) {
			res.limited++
			if s.punish {
				recent429 = append(recent429, now)
				for len(recent429) > 0 && recent429[0] <= now-time.Second {
					recent429 = recent429[1:]
				}
				if len(recent429) > 30 && now >= punishTill {
					punishTill = now + 2*time.Second
					res.punished++
				}
			}
			push(simEvent{at: now + s.fast, pm: pm, latency: s.fast, sent: now})
			return
		}
		inServer++
		d := s.service
		if s.jitter > 0 {
			rnd = rnd*6364136223846793005 + 1442695040888963407
			d += time.Duration((rnd >> 33) % uint64(s.jitter))
		}
		push(simEvent{at: now + d, serverT: true})
		latency := d + s.lag
		if s.headers > 0 {
			latency = s.headers
		}
		push(simEvent{at: now + d + s.lag, pm: pm, ok: true, latency: latency, sent: now})
	}
	// fill keeps backlog requests queued in the limiter, as many callers
	// would, and sends those it admitted.
	fill := func() {
		for {
			ks.mu.Lock()
			for ks.queued < s.backlog {
				w := &waiter{ready: make(chan struct{})}
				ks.queue[0].PushBack(w)
				ks.queued++
				waiting = append(waiting, w)
			}
			ks.handOff()
			ks.mu.Unlock()
			n := 0
			keep := waiting[:0]
			for _, w := range waiting {
				if w.permit != nil {
					dispatch(w.permit)
					n++
				} else {
					keep = append(keep, w)
				}
			}
			waiting = keep
			if n == 0 {
				return
			}
		}
	}
	epoch0 := time.Unix(0, 0)
	l.useClock(func() time.Time { return epoch0.Add(now) })
	l.afterFunc = func(d time.Duration, f func()) { push(simEvent{at: now + d, kick: true}) }
	fill()
	for q.Len() > 0 && res.ok < s.requests && now < s.maxTime {
		e := heap.Pop(&q).(simEvent)
		res.limitIntegral += float64(effective(lastT)) * (e.at - lastT).Seconds()
		lastT = e.at
		now = e.at
		if e.serverT {
			inServer--
			continue
		}
		if e.kick {
			ks.mu.Lock()
			ks.kicking = false
			ks.mu.Unlock()
			fill()
			continue
		}
		o := transport.RateLimited
		if e.ok {
			o = transport.OK
			res.ok++
		}
		if s.trace != nil {
			s.trace(now, e.pm.level, e.pm.epoch, e.ok)
		}
		e.pm.Release(Feedback{Outcome: o, Latency: e.latency, Admitted: epoch0.Add(e.sent)})
		if s.onRelease != nil {
			ks.mu.Lock()
			lim := ks.alg.current()
			ks.mu.Unlock()
			s.onRelease(now, lim)
		}
		fill()
	}
	res.elapsed = now
	return res
}
