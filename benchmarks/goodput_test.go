package benchmarks

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	retryablehttp "github.com/hashicorp/go-retryablehttp"
	"go.uber.org/goleak"
	"golang.org/x/sync/semaphore"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The goodput workload: goodputCallers goroutines share goodputRequests
// chat completions against an API whose account limit steps
// 16 → 6 → 24 every two seconds, that serves a request in 40 ms, punishes
// more than 30 429s in a second by halving the limit for two seconds, and
// sends no Retry-After.
const (
	goodputCallers  = 48
	goodputRequests = 1500
	goodputService  = 40 * time.Millisecond
)

var goodputBody = []byte(`{"model":"deepseek-chat","messages":[{"role":"user","content":"Say hello."}]}`)

func goodputServer(steady bool) *llmtest.Server {
	phases := []llmtest.Phase{
		{Limit: 16, Duration: 2 * time.Second},
		{Limit: 6, Duration: 2 * time.Second},
		{Limit: 24, Duration: 2 * time.Second},
	}
	if steady {
		phases = []llmtest.Phase{{Limit: 16, Duration: 2 * time.Second}}
	}
	return llmtest.NewServer(llmtest.Config{
		Phases:      phases,
		ServiceTime: goodputService,
		Punishment:  llmtest.Punishment{Threshold: 30, Window: time.Second, Factor: 0.5, Duration: 2 * time.Second},
		RetryAfter:  llmtest.RetryAfterNone,
		Seed:        1,
	})
}

// contender builds the client under test over base, a pooled transport
// shared by all contenders so that only the policies differ.
type contender struct {
	name   string
	steady bool
	client func(base http.RoundTripper) *http.Client
}

// goodputRetryDelay is the backoff base after a 429 in the recommended
// stack (retry.Config.RateLimitedBaseDelay): behind the gate a retried
// request waits in the gate's queue anyway, so a long sleep only stretches
// the end of the run. Of 5, 10 and 25 ms, 25 ms did best here.
const goodputRetryDelay = 25 * time.Millisecond

var goodputContenders = []contender{
	{name: "pacer-gate+retry", client: pacerClient(goodputRetryDelay)},
	{name: "pacer-gate+retry/steady16", steady: true, client: pacerClient(goodputRetryDelay)},
	// The full recommended stack, pacer.NewClient(pacer.Config{}): otel,
	// retry, breaker, gate, otel, keepalive, with every default.
	{name: "pacer-defaults", client: pacerDefaults},
	{name: "pacer-defaults/steady16", steady: true, client: pacerDefaults},
	// The best a client can do against the steady server on this machine:
	// a gate that knows the limit.
	{name: "fixed16-gate+retry/steady16", steady: true, client: func(base http.RoundTripper) *http.Client {
		g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 16}})
		r := retry.New(retry.Config{RateLimitedBaseDelay: goodputRetryDelay})
		return &http.Client{Transport: transport.Chain(base, r.Wrap, g.Wrap)}
	}},
	{name: "go-retryablehttp", client: func(base http.RoundTripper) *http.Client {
		return retryableClient(base)
	}},
	{name: "failsafehttp", client: func(base http.RoundTripper) *http.Client {
		return &http.Client{Transport: failsafehttp.NewRoundTripper(base, failsafehttp.NewRetryPolicyBuilder().Build())}
	}},
	{name: "semaphore8+go-retryablehttp", client: func(base http.RoundTripper) *http.Client {
		return retryableClient(&semaphoreTransport{base: base, sem: semaphore.NewWeighted(8)})
	}},
}

// pacerClient returns the gate (adaptive, defaults) under the retry layer
// with its defaults but for a short backoff after a 429, as the recommended
// stack configures them.
func pacerClient(rateLimitedDelay time.Duration) func(base http.RoundTripper) *http.Client {
	return func(base http.RoundTripper) *http.Client {
		g := concurrency.New(concurrency.Config{})
		r := retry.New(retry.Config{RateLimitedBaseDelay: rateLimitedDelay})
		return &http.Client{Transport: transport.Chain(base, r.Wrap, g.Wrap)}
	}
}

// pacerDefaults is pacer.NewClient(pacer.Config{}) over base.
func pacerDefaults(base http.RoundTripper) *http.Client {
	return pacer.NewClient(pacer.Config{Base: base})
}

// retryableClient is go-retryablehttp with its defaults, silenced.
func retryableClient(base http.RoundTripper) *http.Client {
	rc := retryablehttp.NewClient()
	rc.Logger = nil
	rc.HTTPClient.Transport = base
	return rc.StandardClient()
}

// semaphoreTransport is the usual fixed semaphore: a permit from the
// request until its response headers.
type semaphoreTransport struct {
	base http.RoundTripper
	sem  *semaphore.Weighted
}

func (t *semaphoreTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.sem.Acquire(req.Context(), 1); err != nil {
		httpbody.CloseRequest(req)
		return nil, err
	}
	defer t.sem.Release(1)
	return t.base.RoundTrip(req)
}

// BenchmarkGoodput runs the goodput workload once per iteration for each
// contender and reports, over the last iteration:
//   - goodput/ideal: successes per second over the ideal, the server's mean
//     effective limit divided by the service time;
//   - success: the share of requests that ended in a 200;
//   - 429/attempt: the server's 429s as a share of the requests it got;
//   - p99-ms: the 99th percentile of a request's latency, retries included.
//
// Run it with -benchtime=1x: one iteration takes a few seconds.
func BenchmarkGoodput(b *testing.B) {
	for _, c := range goodputContenders {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var r goodputResult
			for b.Loop() {
				r = runGoodput(b, c)
			}
			b.ReportMetric(r.ratio, "goodput/ideal")
			b.ReportMetric(r.success, "success")
			b.ReportMetric(r.share429, "429/attempt")
			b.ReportMetric(float64(r.p99)/float64(time.Millisecond), "p99-ms")
			b.ReportMetric(r.goodput, "req/s")
			b.ReportMetric(r.ideal, "ideal-req/s")
		})
	}
}

type goodputResult struct {
	ratio, success, share429, goodput, ideal float64
	p99                                      time.Duration
}

func runGoodput(b *testing.B, c contender) goodputResult {
	srv := goodputServer(c.steady)
	pool := &http.Transport{MaxIdleConnsPerHost: 2 * goodputCallers}
	base := &bodyTracker{base: pool}
	defer func() {
		base.closeAll() // bodies a contender dropped without closing
		srv.Close()
		pool.CloseIdleConnections()
	}()
	client := c.client(base)
	url := srv.URL() + "/chat/completions"

	var (
		next, ok  atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, goodputRequests)
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range goodputCallers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= goodputRequests {
				t0 := time.Now()
				if goodputCall(client, url) {
					ok.Add(1)
				}
				d := time.Since(t0)
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	st := srv.Stats()

	slices.Sort(latencies)
	r := goodputResult{
		success: float64(ok.Load()) / goodputRequests,
		goodput: float64(ok.Load()) / elapsed.Seconds(),
		ideal:   st.MeanLimit() / goodputService.Seconds(),
		p99:     latencies[len(latencies)*99/100],
	}
	if r.ideal > 0 {
		r.ratio = r.goodput / r.ideal
	}
	if st.Requests > 0 {
		r.share429 = float64(st.RateLimited) / float64(st.Requests)
	}
	return r
}

// goodputCall sends one chat completion and reads the answer; it reports
// whether it succeeded.
func goodputCall(client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(goodputBody))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}

// bodyTracker remembers every response body it hands out, so that bodies a
// contender drops without closing (failsafehttp does, when its retries run
// out) can be closed after the run and their connections freed.
type bodyTracker struct {
	base   http.RoundTripper
	mu     sync.Mutex
	bodies []io.Closer
}

func (t *bodyTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		t.mu.Lock()
		t.bodies = append(t.bodies, resp.Body)
		t.mu.Unlock()
	}
	return resp, err
}

// CloseIdleConnections forwards to the pool, as go-retryablehttp expects.
func (t *bodyTracker) CloseIdleConnections() { roundtrip.CloseIdleConnections(t.base) }

func (t *bodyTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range t.bodies {
		_ = b.Close()
	}
	t.bodies = nil
}
