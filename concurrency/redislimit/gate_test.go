package redislimit_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/concurrency/redislimit"
	"github.com/pacerhttp/pacer/llmtest"
)

// TestGateFixed: two gates (stand-ins for two processes) on limiters
// sharing a fixed limit keep an llmtest server within it, and the gate's
// Stats show the shared state.
func TestGateFixed(t *testing.T) {
	const k = 3
	g := newGroup(t, 2, redislimit.Config{Limit: k})
	srv := llmtest.NewServer(llmtest.Config{ServiceTime: 10 * time.Millisecond, Phases: []llmtest.Phase{{Limit: k, Duration: time.Hour}}})
	defer srv.Close()
	var gates []*concurrency.Gate
	var clients []*http.Client
	for _, l := range g.lims {
		gate := concurrency.New(concurrency.Config{Limiter: l})
		gates = append(gates, gate)
		clients = append(clients, &http.Client{Transport: gate.Wrap(nil)})
	}
	var bad atomic.Int64
	var wg sync.WaitGroup
	for i := range 12 {
		c := clients[i%2]
		wg.Go(func() {
			for range 10 {
				if err := chat(c, srv.URL()); err != nil {
					t.Log(err)
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	st := srv.Stats()
	t.Logf("completed %d, 429s %d, server peak in flight %d (limit %d)", st.Completed, st.RateLimited, st.PeakInFlight, k)
	if bad.Load() != 0 || st.RateLimited != 0 || st.PeakInFlight > k {
		t.Errorf("failed %d, 429s %d, peak %d; want 0, 0, <= %d", bad.Load(), st.RateLimited, st.PeakInFlight, k)
	}
	key := srv.URL()[len("http://"):]
	key = key[:len(key)-len("/v1")]
	s, ok := gates[0].Stats().Key(key)
	if !ok || s.Limit != k || s.InFlight != 0 || s.Queued != 0 {
		t.Errorf("gate stats for %q: %+v %v; want limit %d, nothing in flight or queued", key, s, ok, k)
	}
}

// TestGateAdaptive: two gates on an adaptive shared limit learn the limit of
// an llmtest server together.
func TestGateAdaptive(t *testing.T) {
	const serverLimit = 6
	var limits sync.Map
	g := newGroup(t, 2, redislimit.Config{OnLimit: func(key string, l int) { limits.Store(key, l) }})
	srv := llmtest.NewServer(llmtest.Config{ServiceTime: 10 * time.Millisecond, Phases: []llmtest.Phase{{Limit: serverLimit, Duration: time.Hour}}})
	defer srv.Close()
	var gates []*concurrency.Gate
	var clients []*http.Client
	for _, l := range g.lims {
		gate := concurrency.New(concurrency.Config{Limiter: l})
		gates = append(gates, gate)
		clients = append(clients, &http.Client{Transport: gate.Wrap(nil)})
	}
	var sent atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		c := clients[i%2]
		wg.Go(func() {
			for sent.Add(1) <= 600 {
				_ = chat(c, srv.URL()) // a 429 is an answer the gate learns from
			}
		})
	}
	wg.Wait()
	st := srv.Stats()
	var learned int
	for _, s := range gates[1].Stats().Keys {
		learned = s.Limit
	}
	share := float64(st.RateLimited) / float64(st.Requests)
	t.Logf("server limit %d: learned %d; %d requests, %d completed, %d 429s (%.1f%%), peak in flight %d",
		serverLimit, learned, st.Requests, st.Completed, st.RateLimited, 100*share, st.PeakInFlight)
	if learned < serverLimit/2 || learned > serverLimit+1 {
		t.Errorf("learned limit %d; want near the server's %d", learned, serverLimit)
	}
	if share > 0.2 {
		t.Errorf("429s are %.0f%% of requests; want few", 100*share)
	}
}
