package breaker

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// TestConcurrentRecovers drives one circuit from many goroutines through
// every kind of outcome while the clock jumps, then checks that no probe
// permit leaked: once the server is healthy the circuit closes.
func TestConcurrentRecovers(t *testing.T) {
	var halfOpens atomic.Int64
	cfg := testConfig()
	cfg.OnStateChange = func(_ string, _, to State) {
		if to == HalfOpen {
			halfOpens.Add(1)
		}
	}
	b, clk := newTestBreaker(cfg)
	var healthy atomic.Bool
	var n atomic.Int64
	rt := b.Wrap(transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		i := n.Add(1)
		if !healthy.Load() {
			switch i % 4 {
			case 0:
				return nil, errors.New("connection reset")
			case 1:
				return &http.Response{StatusCode: 503, Body: io.NopCloser(strings.NewReader("busy")), Request: req}, nil
			}
		}
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Request: req}, nil
	}))
	send := func(i int) {
		req, _ := http.NewRequest(http.MethodGet, "http://api.example/", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return
		}
		if i%2 == 0 {
			_, _ = io.Copy(io.Discard, resp.Body)
		}
		_ = resp.Body.Close()
	}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				send(g + i)
				if i%20 == 0 {
					clk.Advance(5 * time.Second)
				}
			}
		})
	}
	wg.Wait()
	if halfOpens.Load() == 0 {
		t.Fatal("the circuit never half-opened under load")
	}

	healthy.Store(true)
	clk.Advance(10 * time.Second)
	for i := 0; i < 4 && b.StateOf("api.example") != Closed; i++ {
		send(0)
	}
	if got := b.StateOf("api.example"); got != Closed {
		t.Fatalf("state %v after the server recovered, want closed", got)
	}
}
