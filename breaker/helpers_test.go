package breaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/pacerhttp/pacer/transport"
)

// fakeClock is the Breaker's clock in tests: time moves only by Advance.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newTestBreaker returns a Breaker on a fake clock.
func newTestBreaker(cfg Config) (*Breaker, *fakeClock) {
	b := New(cfg)
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b.now = clk.Now
	return b, clk
}

// transition is one OnStateChange call.
type transition struct {
	key      string
	from, to State
}

// hookLog collects OnStateChange calls.
type hookLog struct {
	mu sync.Mutex
	ts []transition
}

func (h *hookLog) hook(key string, from, to State) {
	h.mu.Lock()
	h.ts = append(h.ts, transition{key, from, to})
	h.mu.Unlock()
}

func (h *hookLog) get() []transition {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]transition(nil), h.ts...)
}

// newClient returns a client whose transport is b over a fresh
// http.Transport, closed when the test ends.
func newClient(t *testing.T, b *Breaker) *http.Client {
	t.Helper()
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	return &http.Client{Transport: b.Wrap(base)}
}

// countingBody is a request body that counts its Close calls.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func (c *countingBody) Close() error { c.closes.Add(1); return nil }

func newCountingBody(s string) *countingBody {
	return &countingBody{Reader: bytes.NewReader([]byte(s))}
}

// get sends a GET to url with ctx and returns the status (0 with an error).
// It reads and closes the body.
func get(ctx context.Context, t *testing.T, c *http.Client, url string) (int, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// mustStatus sends a GET and fails the test unless it gets want.
func mustStatus(t *testing.T, c *http.Client, url string, want int) {
	t.Helper()
	got, err := get(context.Background(), t, c, url)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	if got != want {
		t.Fatalf("GET: status %d, want %d", got, want)
	}
}

// mustOpenError sends a GET and fails the test unless the breaker refuses it.
func mustOpenError(t *testing.T, c *http.Client, url string) *OpenError {
	t.Helper()
	_, err := get(context.Background(), t, c, url)
	var oe *OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("GET: err = %v, want *OpenError", err)
	}
	if !errors.Is(err, ErrOpen) || !errors.Is(err, circuitbreaker.ErrOpen) {
		t.Fatalf("GET: err = %v, want errors.Is ErrOpen and circuitbreaker.ErrOpen", err)
	}
	return oe
}

// statusServer answers each request with the status in its "status" query
// parameter (200 when absent) and counts requests.
type statusServer struct {
	*httptest.Server
	requests atomic.Int64

	mu    sync.Mutex
	auths []string // Authorization of each request
}

func (s *statusServer) authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

func newStatusServer(t *testing.T) *statusServer {
	s := &statusServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		s.auths = append(s.auths, r.Header.Get("Authorization"))
		s.mu.Unlock()
		code := http.StatusOK
		if v := r.URL.Query().Get("status"); v != "" {
			code, _ = strconv.Atoi(v)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *statusServer) url(code int) string {
	return s.URL + "/v1/chat/completions?status=" + strconv.Itoa(code)
}

// facts sends a GET carrying a record and returns what the layers wrote.
func facts(t *testing.T, c *http.Client, url string, p transport.Priority) (transport.Facts, int, error) {
	t.Helper()
	rec := new(transport.Record)
	ctx := transport.ContextWithRecord(transport.WithPriority(context.Background(), p), rec)
	code, err := get(ctx, t, c, url)
	return rec.Facts(), code, err
}

// snapshot renders the parts of a request a layer must not change.
func snapshot(req *http.Request) string {
	return fmt.Sprintf("%s %s host=%q header=%v cl=%d body=%p getbody=%v",
		req.Method, req.URL, req.Host, req.Header, req.ContentLength, req.Body, req.GetBody != nil)
}
