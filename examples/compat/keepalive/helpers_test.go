package keepalive_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// newServer starts an httptest server with handler h, closed at cleanup.
func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// flush sends what the handler has written so far.
func flush(w http.ResponseWriter) { w.(http.Flusher).Flush() }
