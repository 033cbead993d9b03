package quota

import (
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Quota keeps, per key, the budgets a server announces in its rate-limit
// headers, and holds back a request its key's budget will not cover until
// the window resets. Build one with [New], share it between every client
// that spends the same account's windows, and put it in a stack with
// [Quota.Wrap]. It is safe for concurrent use.
type Quota struct {
	key          func(*http.Request, string) string
	maxQueue     int
	queueTimeout time.Duration
	maxWait      time.Duration
	defMaxTokens int64
	resetMargin  time.Duration
	refunds      bool

	now func() time.Time
	rnd func() uint32

	last   atomic.Pointer[hostState] // the host seen last, looked up first
	hosts  sync.Map                  // host → *hostState
	nhosts atomic.Int32
	keys   sync.Map // key → *keyState
}

// New returns a Quota configured by cfg; see [Config] for the defaults.
func New(cfg Config) *Quota {
	q := &Quota{
		key:          cfg.Key,
		maxQueue:     cfg.MaxQueue,
		queueTimeout: cfg.QueueTimeout,
		maxWait:      cfg.MaxWait,
		defMaxTokens: max(cfg.DefaultMaxTokens, 0),
		refunds:      cfg.Refunds,
		now:          time.Now,
		rnd:          rand.Uint32,
	}
	switch {
	case cfg.ResetMargin == 0:
		q.resetMargin = DefaultResetMargin
	case cfg.ResetMargin > 0:
		q.resetMargin = cfg.ResetMargin
	}
	if q.key == nil {
		q.key = HostModelKey
	}
	if q.maxQueue == 0 {
		q.maxQueue = DefaultMaxQueue
	}
	switch {
	case q.maxWait == 0:
		q.maxWait = DefaultMaxWait
	case q.maxWait < 0:
		q.maxWait = 0
	}
	return q
}

// keyState returns the state of key, or nil when there is none.
func (q *Quota) keyState(key string) *keyState {
	if v, ok := q.keys.Load(key); ok {
		return v.(*keyState)
	}
	return nil
}

// newKeyState returns the state of key, made if there was none, and
// whether it was made.
func (q *Quota) newKeyState(key string) (*keyState, bool) {
	if ks := q.keyState(key); ks != nil {
		return ks, false
	}
	ks := &keyState{q: q, key: key}
	ks.b.margin, ks.b.refunds = q.resetMargin, q.refunds
	v, loaded := q.keys.LoadOrStore(key, ks)
	return v.(*keyState), !loaded
}

// EachKey calls fn for every windowed limit a server announced, per key:
// the kind ("requests", "tokens", "input_tokens" or "output_tokens"), the
// window's size and what the layer believes is left of it. It is what the
// telemetry layer reads for its rate-limit gauges. fn is called without
// the layer's locks held.
func (q *Quota) EachKey(fn func(key, kind string, limit, remaining int64)) {
	for _, k := range q.Stats().Keys {
		for _, b := range [...]struct {
			kind string
			b    Budget
		}{
			{"requests", k.Requests}, {"tokens", k.Tokens},
			{"input_tokens", k.InputTokens}, {"output_tokens", k.OutputTokens},
		} {
			if b.b.Known {
				fn(k.Key, b.kind, b.b.Limit, b.b.Remaining)
			}
		}
	}
}

// Budget is what the layer knows of one windowed limit of one key.
type Budget struct {
	// Limit is the window's size, as last announced; zero when never.
	Limit int64
	// Remaining is what the layer believes is left: the server's last
	// count less what was reserved since.
	Remaining int64
	// Reset is when the window is next full; zero when unknown (never
	// announced, or passed since the last announcement).
	Reset time.Time
	// Known says the server announced this limit.
	Known bool
}

// KeyStats is the state of one key.
type KeyStats struct {
	Requests, Tokens, InputTokens, OutputTokens Budget
	// Waiting is how many requests wait for a window to reset.
	Waiting int
	// Outstanding is how many reservations no report has covered yet.
	Outstanding int
}

// KeyStat is the state of one key, with the key.
type KeyStat struct {
	Key string
	KeyStats
}

// Stats is a snapshot of every key whose server announced a limit.
type Stats struct {
	// Keys is sorted by key.
	Keys []KeyStat
}

// Key returns the state of key, and whether the layer has seen it.
func (s Stats) Key(key string) (KeyStats, bool) {
	i := sort.Search(len(s.Keys), func(i int) bool { return s.Keys[i].Key >= key })
	if i < len(s.Keys) && s.Keys[i].Key == key {
		return s.Keys[i].KeyStats, true
	}
	return KeyStats{}, false
}

// Stats returns the state of every key whose server announced a limit.
func (q *Quota) Stats() Stats {
	var s Stats
	q.keys.Range(func(k, v any) bool {
		s.Keys = append(s.Keys, KeyStat{Key: k.(string), KeyStats: v.(*keyState).stats()})
		return true
	})
	sort.Slice(s.Keys, func(i, j int) bool { return s.Keys[i].Key < s.Keys[j].Key })
	return s
}
