package retry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sleeps records the delays a Retrier asked to sleep, without sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newTestRetrier returns a Retrier that records its sleeps instead of
// sleeping, and whose random source returns half of its bound, so delays are
// exact.
func newTestRetrier(cfg Config) (*Retrier, *sleeps) {
	r := New(cfg)
	s := &sleeps{}
	r.sleep = s.sleep
	r.rand = func(n int64) int64 { return n / 2 }
	return r, s
}

// reply is one scripted answer of a scriptServer.
type reply struct {
	status int
	header map[string]string
	hangup bool // close the connection before any response byte
}

// scriptServer answers its requests with the scripted replies in order, then
// with 200. Each body says which attempt it answers ("reply N").
type scriptServer struct {
	*httptest.Server
	mu      sync.Mutex
	script  []reply
	bodies  [][]byte
	methods []string
	n       atomic.Int64
}

func newScriptServer(t *testing.T, script ...reply) *scriptServer {
	t.Helper()
	s := &scriptServer{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptServer) serve(w http.ResponseWriter, req *http.Request) {
	n := s.n.Add(1)
	body, _ := io.ReadAll(req.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.methods = append(s.methods, req.Method)
	rep := reply{status: http.StatusOK}
	if len(s.script) > 0 {
		rep, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if rep.hangup {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	fmt.Fprintf(w, "reply %d", n)
}

func (s *scriptServer) requests() int { return int(s.n.Load()) }

func (s *scriptServer) gotBodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

// closeCounter is a transport that counts the responses it returns and the
// Close calls on their bodies.
type closeCounter struct {
	base      http.RoundTripper
	responses atomic.Int64
	closes    atomic.Int64
}

func newCloseCounter() *closeCounter {
	return &closeCounter{base: &http.Transport{}}
}

func (c *closeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	c.responses.Add(1)
	resp.Body = &countedBody{ReadCloser: resp.Body, n: &c.closes}
	return resp, nil
}

func (c *closeCounter) CloseIdleConnections() {
	c.base.(*http.Transport).CloseIdleConnections()
}

type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countedBody) Close() error {
	b.n.Add(1)
	return b.ReadCloser.Close()
}

// reqBody is a request body without GetBody that counts its Close calls.
type reqBody struct {
	r      io.Reader
	closes atomic.Int64
}

func (b *reqBody) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *reqBody) Close() error               { b.closes.Add(1); return nil }

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
}
