package keepalive_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/pacerhttp/pacer/transport"
)

// countingBody counts the Close calls that reach a response body.
type countingBody struct {
	io.ReadCloser
	closes *atomic.Int32
}

func (b countingBody) Close() error {
	b.closes.Add(1)
	return b.ReadCloser.Close()
}

// counted wraps base so that every response body counts its closes in n.
func counted(base http.RoundTripper, n *atomic.Int32) http.RoundTripper {
	return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(req)
		if err == nil {
			resp.Body = countingBody{resp.Body, n}
		}
		return resp, err
	})
}

// newServer starts an httptest server with handler h, closed at cleanup.
func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// flush sends what the handler has written so far.
func flush(w http.ResponseWriter) { w.(http.Flusher).Flush() }

// wantCloses fails the test unless n is exactly want.
func wantCloses(t *testing.T, n *atomic.Int32, want int32) {
	t.Helper()
	if got := n.Load(); got != want {
		t.Fatalf("underlying body closed %d times, want %d", got, want)
	}
}

// newBenchServer answers every request with body of the given type.
func newBenchServer(contentType string, body []byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	}))
}
