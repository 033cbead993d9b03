package benchmarks

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/retrypolicy"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
)

// The overload workloads: overloadCallers goroutines share
// overloadRequests chat completions against an account limit of 16 and
// 40 ms answers, while the platform is overloaded:
//   - transient: half the requests get 503 during one second of every
//     three, as a platform under a passing load spike answers;
//   - outage: every request gets 503 for the whole run, where retries only
//     add load and the retry budget and the breaker must hold them back.
const (
	overloadCallers  = 48
	overloadRequests = 1200
	overloadService  = 40 * time.Millisecond
)

func overloadServer(outage bool) *llmtest.Server {
	cfg := llmtest.Config{
		Phases:      []llmtest.Phase{{Limit: 16, Duration: 3 * time.Second}},
		Overload:    []llmtest.Window{{Start: 0, Duration: time.Second, Share: 0.5}},
		ServiceTime: overloadService,
		Seed:        1,
	}
	if outage {
		cfg.Overload = []llmtest.Window{{Start: 0, Duration: 3 * time.Second}}
	}
	return llmtest.NewServer(cfg)
}

type overloadContender struct {
	name       string
	skipOutage bool // too slow in the outage to be worth the run
	client     func(base http.RoundTripper) (*http.Client, func())
}

// pacerWith is pacer.New with rc as its retry configuration.
func pacerWith(rc retry.Config) func(base http.RoundTripper) (*http.Client, func()) {
	return func(base http.RoundTripper) (*http.Client, func()) {
		st := pacer.New(pacer.Config{Base: base, Retry: rc})
		return st.Client(), func() { _ = st.Close() }
	}
}

var overloadContenders = []overloadContender{
	{name: "pacer-defaults", client: pacerWith(retry.Config{})},
	// The retry budget pacer had before: retries at most 20 % of requests.
	{name: "pacer-budget20%", client: pacerWith(retry.Config{BudgetRatio: 0.2})},
	// Without the breaker, the budget alone bounds the load of an outage.
	{name: "pacer-defaults-nobreaker", client: func(base http.RoundTripper) (*http.Client, func()) {
		st := pacer.New(pacer.Config{Base: base, Without: pacer.LayerBreaker})
		return st.Client(), func() { _ = st.Close() }
	}},
	{name: "pacer-budget20%-nobreaker", client: func(base http.RoundTripper) (*http.Client, func()) {
		st := pacer.New(pacer.Config{Base: base, Retry: retry.Config{BudgetRatio: 0.2}, Without: pacer.LayerBreaker})
		return st.Client(), func() { _ = st.Close() }
	}},
	// 20 jittered retries and no budget: it rides out the spike, and in
	// the outage each request would retry 20 times.
	{name: "failsafehttp-20-jittered", skipOutage: true, client: func(base http.RoundTripper) (*http.Client, func()) {
		rp := retrypolicy.NewBuilder[*http.Response]().
			HandleIf(func(resp *http.Response, err error) bool {
				return err != nil || resp.StatusCode == 429 || resp.StatusCode >= 500
			}).
			WithMaxRetries(20).
			WithBackoff(50*time.Millisecond, 2*time.Second).
			WithJitterFactor(0.5).
			ReturnLastFailure().
			Build()
		return &http.Client{Transport: failsafehttp.NewRoundTripper(base, rp)}, func() {}
	}},
}

// BenchmarkOverload runs each overload workload once per iteration for
// each contender and reports, over the last iteration:
//   - success: the share of requests that ended in a 200;
//   - attempts/req: the requests the server got per logical request (what
//     the retries cost it);
//   - req/s: successes per second;
//   - ideal-req/s: the limit over the service time, which the overload
//     windows leave whole (a 503 costs the server no permit).
//
// Run it with -benchtime=1x.
func BenchmarkOverload(b *testing.B) {
	for _, outage := range []bool{false, true} {
		scenario := "transient"
		if outage {
			scenario = "outage"
		}
		for _, c := range overloadContenders {
			if outage && c.skipOutage {
				continue
			}
			b.Run(scenario+"/"+c.name, func(b *testing.B) {
				var r overloadResult
				for b.Loop() {
					r = runOverload(b, c, outage)
				}
				b.ReportMetric(r.success, "success")
				b.ReportMetric(r.attempts, "attempts/req")
				b.ReportMetric(r.goodput, "req/s")
				b.ReportMetric(16/overloadService.Seconds(), "ideal-req/s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

type overloadResult struct{ success, attempts, goodput float64 }

func runOverload(b *testing.B, c overloadContender, outage bool) overloadResult {
	srv := overloadServer(outage)
	pool := &http.Transport{MaxIdleConnsPerHost: 2 * overloadCallers}
	base := &bodyTracker{base: pool}
	client, done := c.client(base)
	defer func() {
		done()
		base.closeAll()
		srv.Close()
		pool.CloseIdleConnections()
	}()
	url := srv.URL() + "/chat/completions"
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range overloadCallers {
		wg.Go(func() {
			for next.Add(1) <= overloadRequests {
				if goodputCall(client, url) {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	st := srv.Stats()
	return overloadResult{
		success:  float64(ok.Load()) / overloadRequests,
		attempts: float64(st.Requests) / overloadRequests,
		goodput:  float64(ok.Load()) / elapsed.Seconds(),
	}
}
