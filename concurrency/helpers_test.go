package concurrency_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server is a loopback server that counts the requests it is serving and
// remembers the peak.
type server struct {
	*httptest.Server
	active, peak atomic.Int64
	delay        time.Duration
	status       func(r *http.Request) int // nil: 200
}

func newServer(t *testing.T, delay time.Duration) *server {
	s := &server{delay: delay}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.active.Add(1)
		for {
			p := s.peak.Load()
			if n <= p || s.peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer s.active.Add(-1)
		_, _ = io.Copy(io.Discard, r.Body)
		code := http.StatusOK
		if s.status != nil {
			code = s.status(r)
		}
		if s.delay > 0 {
			select {
			case <-time.After(s.delay):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, strings.Repeat("x", 512))
	}))
	t.Cleanup(s.Close)
	return s
}

// countingBody counts Close calls on a request body.
type countingBody struct {
	io.Reader
	closes atomic.Int32
}

func (b *countingBody) Close() error {
	b.closes.Add(1)
	return nil
}

// fakeTransport answers from a function, with no network.
type fakeTransport func(*http.Request) (*http.Response, error)

func (f fakeTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func okResponse(r *http.Request, code int) *http.Response {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: code,
		Header:     http.Header{},
		Body:       io.NopCloser(strings.NewReader("body")),
		Request:    r,
	}
}

// saturate sends each GET requests to http://h/ through rt from each of
// workers goroutines at once, closing every body, and returns when all are
// done.
func saturate(t *testing.T, rt http.RoundTripper, workers, each int) {
	t.Helper()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				req, _ := http.NewRequest(http.MethodGet, "http://h/", nil)
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				_ = resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}
