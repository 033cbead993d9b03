package llmtest

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a fake OpenAI-compatible API listening on loopback. Create it
// with [NewServer] and stop it with [Server.Close]. Its methods are safe for
// concurrent use.
type Server struct {
	cfg             Config
	ts              *httptest.Server
	start           time.Time
	now             func() time.Duration // elapsed since start; replaced in tests
	done            chan struct{}
	once            sync.Once
	chunks          []string
	created         int64
	retryAfterValue string

	mu       sync.Mutex // guards the fields below
	lim      *limiter
	rng      *rand.Rand
	script   []Behavior
	requests []Request

	seq                                                       atomic.Int64
	nRequests, nCompleted, nRateLimited, nOverloaded          atomic.Int64
	nPayment, nUnauthorized, nBadRequest, nClosedWhileWaiting atomic.Int64
	nFaults, nServerErrors, nCanceled                         atomic.Int64
}

// Request is a request the server received, kept when
// [Config.RecordRequests] is set.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// NewServer starts a server for cfg on 127.0.0.1 at a random port.
func NewServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:    cfg,
		done:   make(chan struct{}),
		chunks: answerChunks(cfg.StreamChunks),
		lim:    newLimiter(cfg.Phases, cfg.Punishment),
		rng:    rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Seed)^0x9e3779b97f4a7c15)),
	}
	switch cfg.RetryAfter {
	case RetryAfterSeconds:
		secs := (cfg.RetryAfterDelay + time.Second - 1) / time.Second
		s.retryAfterValue = strconv.FormatInt(int64(secs), 10)
	case RetryAfterMillis:
		ms := (cfg.RetryAfterDelay + time.Millisecond - 1) / time.Millisecond
		s.retryAfterValue = strconv.FormatInt(int64(ms), 10)
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.start = time.Now()
	s.created = s.start.Unix()
	s.now = func() time.Duration { return time.Since(s.start) }
	s.ts.Start()
	return s
}

// URL returns the base URL SDKs take, "http://127.0.0.1:PORT/v1".
func (s *Server) URL() string { return s.ts.URL + "/v1" }

// Client returns an *http.Client configured for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close ends every wait in progress, closes the server and waits until all
// its goroutines have returned. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.ts.Close()
}

// Script makes the next len(b) chat completion requests (after
// authentication and JSON validation) get the given behaviours, in order,
// appended to any behaviours still pending. Scripted behaviours other than
// [Normal] bypass the limit and overload windows; those that answer 200
// count in flight. [Normal] gets ordinary service.
func (s *Server) Script(b ...Behavior) {
	s.mu.Lock()
	s.script = append(s.script, b...)
	s.mu.Unlock()
}

// Requests returns the requests received so far, when
// [Config.RecordRequests] is set; otherwise nil.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Answer returns the content of every complete answer: the concatenation
// of its chunks.
func (s *Server) Answer() string {
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
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:           s.nRequests.Load(),
		Completed:          s.nCompleted.Load(),
		RateLimited:        s.nRateLimited.Load(),
		Overloaded:         s.nOverloaded.Load(),
		PaymentRequired:    s.nPayment.Load(),
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
	st.LimitIntegral = float64(s.lim.integral) / float64(time.Second)
	st.Elapsed = max(now, s.lim.last)
	s.mu.Unlock()
	return st
}
