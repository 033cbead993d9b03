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
	g := newGroup(t, 2, redislimit.Config{Limits: concurrency.Limits{Limit: k}})
	srv := llmtest.NewServer(llmtest.Config{ServiceTime: 10 * time.Millisecond, Phases: []llmtest.Phase{{Limit: k, Duration: time.Hour}}})
	defer srv.Close()
	gates, clients := gatesOn(g)
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
	key = key[:len(key)-len("/v1")] + " m" // the host and the model chat sends
	s, ok := gates[0].Stats().Key(key)
	if !ok || s.Limit != k || s.InFlight != 0 || s.Queued != 0 {
		t.Errorf("gate stats for %q: %+v %v; want limit %d, nothing in flight or queued", key, s, ok, k)
	}
}

// TestGateAdaptive: two gates on an adaptive shared limit learn the limit of
// an llmtest server together, starting well below it. The learned limit is
// a sawtooth (a probe one above it, a 429, back down), so the test averages
// it over the second half of the run rather than reading one point of it.
func TestGateAdaptive(t *testing.T) {
	const (
		serverLimit = 6
		requests    = 600
	)
	g := newGroup(t, 2, redislimit.Config{Limits: concurrency.Limits{InitialLimit: 2}})
	srv := llmtest.NewServer(llmtest.Config{ServiceTime: 10 * time.Millisecond, Phases: []llmtest.Phase{{Limit: serverLimit, Duration: time.Hour}}})
	defer srv.Close()
	key := srv.URL()[len("http://"):len(srv.URL())-len("/v1")] + " m"
	gates, clients := gatesOn(g)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		c := clients[i%2]
		wg.Go(func() {
			for sent.Add(1) <= requests {
				_ = chat(c, srv.URL()) // a 429 is an answer the gate learns from
			}
		})
	}
	// Sample the shared limit, through each gate in turn, while the second
	// half of the requests is sent.
	var sum, samples int
	for i := 0; sent.Load() < requests; i++ {
		if sent.Load() >= requests/2 {
			if s, ok := gates[i%2].Stats().Key(key); ok {
				sum += s.Limit
				samples++
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	st := srv.Stats()
	share := float64(st.RateLimited) / float64(st.Requests)
	var mean float64
	if samples > 0 {
		mean = float64(sum) / float64(samples)
	}
	t.Logf("server limit %d: mean learned limit %.2f over %d samples; %d requests, %d completed, %d 429s (%.1f%%), peak in flight %d",
		serverLimit, mean, samples, st.Requests, st.Completed, st.RateLimited, 100*share, st.PeakInFlight)
	if samples == 0 || mean < serverLimit-1.5 || mean > serverLimit+1 {
		t.Errorf("mean learned limit %.2f over %d samples; want near the server's %d", mean, samples, serverLimit)
	}
	if share > 0.2 {
		t.Errorf("429s are %.0f%% of requests; want few", 100*share)
	}
	// Both gates read one shared limit.
	s0, ok0 := gates[0].Stats().Key(key)
	s1, ok1 := gates[1].Stats().Key(key)
	if !ok0 || !ok1 || s0.Limit != s1.Limit || s0.InFlight != 0 || s1.InFlight != 0 {
		t.Errorf("after the run the gates report %+v (%v) and %+v (%v); want one limit, nothing in flight", s0, ok0, s1, ok1)
	}
}

// gatesOn makes a gate on each of g's limiters, and a client through it.
func gatesOn(g *group) ([]*concurrency.Gate, []*http.Client) {
	var gates []*concurrency.Gate
	var clients []*http.Client
	for _, l := range g.lims {
		gate := concurrency.New(concurrency.Config{Limiter: l})
		gates = append(gates, gate)
		clients = append(clients, &http.Client{Transport: gate.Wrap(nil)})
	}
	return gates, clients
}
