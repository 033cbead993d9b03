package breaker

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// newCutServer streams part of an SSE answer with status 200, then closes
// the connection mid-body.
func newCutServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"choices\":[]}\n\n")
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMidStreamFailureCounts(t *testing.T) {
	cfg := testConfig()
	cfg.MinRequests = 1
	b, _ := newTestBreaker(cfg)
	srv := newCutServer(t)
	c := newClient(t, b)
	key := srv.Listener.Addr().String()

	resp, err := c.Get(srv.URL + "/v1/chat/completions")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %v", err)
	}
	if got := b.StateOf(key); got != Closed {
		t.Fatalf("state %v with the body unread, want closed: the outcome waits for the body", got)
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("want a read error from the cut body")
	}
	_ = resp.Body.Close()
	if got := b.StateOf(key); got != Open {
		t.Fatalf("state %v after the body failed, want open", got)
	}
}

func TestStreamCanceledByCallerDoesNotCount(t *testing.T) {
	cfg := testConfig()
	cfg.MinRequests = 1
	b, _ := newTestBreaker(cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "data: {}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, b)

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/chat/completions", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("want the read to fail after cancel")
	}
	_ = resp.Body.Close()
	if got := b.StateOf(srv.Listener.Addr().String()); got != Closed {
		t.Fatalf("state %v after a caller cancel, want closed", got)
	}
}
