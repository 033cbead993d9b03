package breaker

import (
	"io"
	"strings"
	"testing"
)

// EachKey reports every circuit a request has used, with its state's name.
func TestEachKey(t *testing.T) {
	srv := newStatusServer(t)
	b, _ := newTestBreaker(Config{MinRequests: 2, FailureRate: 0.5})
	got := map[string]string{}
	b.EachKey(func(key, state string) { got[key] = state })
	if len(got) != 0 {
		t.Fatalf("circuits %v before any request", got)
	}
	c := newClient(t, b)
	for range 3 {
		resp, err := c.Get(srv.url(503))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.EachKey(func(key, state string) { got[key] = state })
	host := strings.TrimPrefix(srv.URL, "http://")
	if len(got) != 1 || got[host] != "open" {
		t.Errorf("circuits %v, want %s open", got, host)
	}
}
