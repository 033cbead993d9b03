package llmtest

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Handler is the fake API as an [http.Handler]: everything a [Server]
// does except listening. Serve it with any [http.Server] to test a program
// in another language against it, or call ServeHTTP directly (in a
// [testing/synctest] bubble its clock is the bubble's). Create it with
// [NewHandler] and end its waits with [Handler.Close]. Its methods are
// safe for concurrent use.
//
// The paths it serves begin with /v1, so the base URL an SDK takes is the
// listener's URL followed by /v1. Hijacking faults ([ResetBeforeHeaders])
// need a ResponseWriter that supports [http.Hijacker]; with one that does
// not, they end the response with [http.ErrAbortHandler].
type Handler struct {
	cfg             Config
	start           time.Time
	now             func() time.Duration // elapsed since start
	done            chan struct{}
	once            sync.Once
	chunks          []string
	created         int64
	retryAfterValue string

	mu        sync.Mutex          // guards the fields below
	lim       *limiter            // the account limit
	modelLims map[string]*limiter // per-model limits
	rng       *rand.Rand          // waits and faults
	netRng    *rand.Rand          // network delays
	svcRng    *rand.Rand          // answer times
	script    []Behavior
	requests  []Request
	win       windowState

	seq                                                       atomic.Int64
	nRequests, nCompleted, nRateLimited, nOverloaded          atomic.Int64
	nPayment, nUnauthorized, nBadRequest, nClosedWhileWaiting atomic.Int64
	nFaults, nServerErrors, nCanceled, nQuota                 atomic.Int64
}

// Request is a request the server received, kept when
// [Config.RecordRequests] is set.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// NewHandler returns a handler for cfg. Its clock (limit schedule,
// windows) starts now.
func NewHandler(cfg Config) *Handler {
	cfg = cfg.withDefaults()
	s := &Handler{
		cfg:    cfg,
		done:   make(chan struct{}),
		chunks: answerChunks(cfg.StreamChunks),
		lim:    newModelLimiter(ModelLimit{Phases: cfg.Phases, Walk: cfg.Walk}, uint64(cfg.Seed), cfg.Punishment),
		rng:    rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15)),
		netRng: rand.New(rand.NewPCG(uint64(cfg.Seed)^0x6a09e667f3bcc908, uint64(cfg.Seed))),
		svcRng: rand.New(rand.NewPCG(uint64(cfg.Seed)^0xbb67ae8584caa73b, uint64(cfg.Seed)+1)),
	}
	if len(cfg.Models) > 0 {
		s.modelLims = make(map[string]*limiter, len(cfg.Models))
		for name, m := range cfg.Models {
			s.modelLims[name] = newModelLimiter(m, uint64(cfg.Seed)^fnv64(name), cfg.Punishment)
		}
	}
	switch cfg.RetryAfter {
	case RetryAfterSeconds:
		secs := (cfg.RetryAfterDelay + time.Second - 1) / time.Second
		s.retryAfterValue = strconv.FormatInt(int64(secs), 10)
	case RetryAfterMillis:
		ms := (cfg.RetryAfterDelay + time.Millisecond - 1) / time.Millisecond
		s.retryAfterValue = strconv.FormatInt(int64(ms), 10)
	}
	s.start = time.Now()
	s.created = s.start.Unix()
	s.now = func() time.Duration { return time.Since(s.start) }
	return s
}

// Close ends every wait and answer in progress: their handlers return
// at once. Requests that arrive later are still served. It is safe to call
// more than once.
func (s *Handler) Close() { s.once.Do(func() { close(s.done) }) }

// Script makes the next len(b) chat completion requests (after
// authentication and JSON validation) get the given behaviours, in order,
// appended to any behaviours still pending. Scripted behaviours other than
// [Normal] bypass the limit and overload windows; those that answer 200
// count in flight. [Normal] gets ordinary service.
func (s *Handler) Script(b ...Behavior) {
	s.mu.Lock()
	s.script = append(s.script, b...)
	s.mu.Unlock()
}

// Requests returns the requests received so far, when
// [Config.RecordRequests] is set; otherwise nil.
func (s *Handler) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Answer returns the content of every complete answer: the concatenation
// of its chunks.
func (s *Handler) Answer() string {
	var n int
	for _, c := range s.chunks {
		n += len(c)
	}
	b := make([]byte, 0, n)
	for _, c := range s.chunks {
		b = append(b, c...)
	}
	return string(b)
}

// Stats returns a snapshot of the server's counters.
func (s *Handler) Stats() Stats {
	st := Stats{
		Requests:           s.nRequests.Load(),
		Completed:          s.nCompleted.Load(),
		RateLimited:        s.nRateLimited.Load(),
		Overloaded:         s.nOverloaded.Load(),
		PaymentRequired:    s.nPayment.Load(),
		QuotaExhausted:     s.nQuota.Load(),
		Unauthorized:       s.nUnauthorized.Load(),
		BadRequest:         s.nBadRequest.Load(),
		ClosedWhileWaiting: s.nClosedWhileWaiting.Load(),
		Faults:             s.nFaults.Load(),
		ServerErrors:       s.nServerErrors.Load(),
		Canceled:           s.nCanceled.Load(),
	}
	s.mu.Lock()
	now := s.now()
	s.lim.advance(now)
	st.InFlight = s.lim.inflight
	st.PeakInFlight = s.lim.peak
	st.Limit = s.lim.limit(now)
	st.Punishments = s.lim.punishments
	st.LimitIntegral = float64(s.lim.integral) / float64(time.Second)
	st.Elapsed = max(now, s.lim.last)
	if len(s.modelLims) > 0 {
		st.Models = make(map[string]ModelStats, len(s.modelLims))
		for name, l := range s.modelLims {
			l.advance(now)
			st.Models[name] = ModelStats{
				InFlight:      l.inflight,
				PeakInFlight:  l.peak,
				Limit:         l.limit(now),
				Punishments:   l.punishments,
				LimitIntegral: float64(l.integral) / float64(time.Second),
			}
			st.Punishments += l.punishments
		}
	}
	s.mu.Unlock()
	return st
}

// fnv64 is FNV-1a, to give each model's walk a seed of its own.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
