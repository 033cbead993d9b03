package benchmarks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

// A scenario of the goodput matrix: a fake API, the callers that load it
// (each always has a request to send), and how long a run lasts.
type scenario struct {
	name string
	cfg  llmtest.Config
	// models are the models the callers ask for, callers[i] of them for
	// models[i]; a model without a limit of its own counts against the
	// account limit.
	models  []string
	callers []int
	run     time.Duration
}

// meanAnswer is the scenario's mean answer time: what the ideal goodput
// divides the mean limit by.
func (s scenario) meanAnswer() time.Duration {
	if s.cfg.AnswerTime.Median > 0 {
		return s.cfg.AnswerTime.Mean()
	}
	return s.cfg.ServiceTime
}

// punishment is what DeepSeek-like servers do to a burst of 429s: more
// than 30 in a second halve the limit for two seconds.
var punishment = llmtest.Punishment{Threshold: 30, Window: time.Second, Factor: 0.5, Duration: 2 * time.Second}

func steps(limits ...int) []llmtest.Phase {
	p := make([]llmtest.Phase, len(limits))
	for i, l := range limits {
		p[i] = llmtest.Phase{Limit: l, Duration: 2 * time.Second}
	}
	return p
}

// matrixScenarios are the rows of the matrix. Answers take 40 ms in the
// small rows; the cold start row's answers are ten times longer (and
// heavy-tailed) against a limit of 500, which is what two cores can serve
// with room for the client.
var matrixScenarios = []scenario{
	{
		name:    "steady16",
		cfg:     llmtest.Config{Phases: steps(16), ServiceTime: 40 * time.Millisecond},
		models:  []string{"deepseek-chat"},
		callers: []int{48},
		run:     6 * time.Second,
	},
	{
		name:    "step16-6-24",
		cfg:     llmtest.Config{Phases: steps(16, 6, 24), ServiceTime: 40 * time.Millisecond},
		models:  []string{"deepseek-chat"},
		callers: []int{48},
		run:     6 * time.Second,
	},
	{
		name: "step16-6-24/net1-5ms",
		cfg: llmtest.Config{Phases: steps(16, 6, 24), ServiceTime: 40 * time.Millisecond,
			OneWayDelay: llmtest.Delay{Min: time.Millisecond, Max: 5 * time.Millisecond}},
		models:  []string{"deepseek-chat"},
		callers: []int{48},
		run:     6 * time.Second,
	},
	{
		name: "walk/lognormal/net1-5ms",
		cfg: llmtest.Config{
			Walk:        llmtest.Walk{Start: 16, Min: 4, Max: 48, Step: time.Second, Sigma: 0.25},
			AnswerTime:  llmtest.AnswerTime{Median: 40 * time.Millisecond, Sigma: 0.7, Max: 2 * time.Second},
			OneWayDelay: llmtest.Delay{Min: time.Millisecond, Max: 5 * time.Millisecond}},
		models:  []string{"deepseek-chat"},
		callers: []int{72},
		run:     10 * time.Second,
	},
	{
		name: "cold500/lognormal/net10-20ms",
		cfg: llmtest.Config{
			Phases:      []llmtest.Phase{{Limit: 500, Duration: time.Hour}},
			AnswerTime:  llmtest.AnswerTime{Median: 400 * time.Millisecond, Sigma: 0.5, Max: 4 * time.Second},
			OneWayDelay: llmtest.Delay{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}},
		models:  []string{"deepseek-v4-pro"},
		callers: []int{700},
		run:     10 * time.Second,
	},
	{
		name: "two-models-6-30",
		cfg: llmtest.Config{
			Models: map[string]llmtest.ModelLimit{
				"deepseek-v4-pro":   {Phases: steps(6)},
				"deepseek-v4-flash": {Phases: steps(30)},
			},
			ServiceTime: 40 * time.Millisecond},
		models:  []string{"deepseek-v4-pro", "deepseek-v4-flash"},
		callers: []int{18, 90},
		run:     6 * time.Second,
	},
}

// A matrix contender builds a client over a fresh pool, told the server
// (only the oracle looks at it).
type matrixContender struct {
	name   string
	client func(pool *http.Transport, srv *llmtest.Server) (*http.Client, func())
}

var matrixContenders = []matrixContender{
	// A gate told the server's limit at every instant, under pacer's
	// retry layer for the few 429s a falling limit still causes.
	{name: "oracle", client: func(pool *http.Transport, srv *llmtest.Server) (*http.Client, func()) {
		o := newOracle(srv)
		r := retry.New(retry.Config{RateLimitedBaseDelay: goodputRetryDelay})
		return &http.Client{Transport: transport.Chain(pool, r.Wrap, o.wrap)}, o.stop
	}},
	// What the README recommends: every default.
	{name: "pacer", client: func(pool *http.Transport, _ *llmtest.Server) (*http.Client, func()) {
		return pacer.NewClient(pacer.Config{Base: pool}), func() {}
	}},
	// The usual client: retries with backoff and no limit at all.
	{name: "go-retryablehttp", client: func(pool *http.Transport, _ *llmtest.Server) (*http.Client, func()) {
		return retryableClient(pool), func() {}
	}},
}

// BenchmarkMatrix runs every scenario of the goodput matrix, with JSON and
// with streamed answers, for every contender, and reports over the last
// iteration:
//   - goodput/ideal: answers completed per second over the ideal, the
//     server's mean limit divided by the mean answer time (the limit as
//     the oracle's run saw it, which no punishment lowered: a punished
//     contender's server has a lower limit, not a lower ideal);
//   - goodput/oracle: the same over the oracle's goodput in the same
//     scenario, measured just before (the oracle runs first);
//   - warm/oracle: the same over the second half of the run only, once a
//     cold start is over;
//   - success: the share of finished calls that got a complete answer;
//   - 429/attempt: the server's 429s as a share of the requests it got;
//   - p99-ms: the 99th percentile of a successful call's latency, retries
//     included;
//   - t90-ms: when the requests in flight first reached 90 % of the
//     server's limit (for several models, of every model's);
//   - punished: the punishments the server started.
//
// Run it with -benchtime=1x; the whole matrix takes about five minutes:
//
//	go test -run='^$' -bench=Matrix -benchtime=1x ./benchmarks
func BenchmarkMatrix(b *testing.B) {
	for _, sc := range matrixScenarios {
		for _, stream := range []bool{false, true} {
			mode := "json"
			if stream {
				mode = "stream"
			}
			var oracle, oracleWarm, ideal float64
			for _, c := range matrixContenders {
				b.Run(fmt.Sprintf("%s/%s/%s", sc.name, mode, c.name), func(b *testing.B) {
					var r matrixResult
					for b.Loop() {
						r = runMatrix(b, sc, stream, c)
					}
					if c.name == "oracle" {
						oracle, oracleWarm, ideal = r.goodput, r.warm, r.ideal
					}
					if ideal == 0 {
						ideal = r.ideal
					}
					b.ReportMetric(r.goodput/ideal, "goodput/ideal")
					if oracle > 0 {
						b.ReportMetric(r.goodput/oracle, "goodput/oracle")
					}
					if oracleWarm > 0 {
						b.ReportMetric(r.warm/oracleWarm, "warm/oracle")
					}
					b.ReportMetric(r.success, "success")
					b.ReportMetric(r.share429, "429/attempt")
					b.ReportMetric(float64(r.p99)/float64(time.Millisecond), "p99-ms")
					b.ReportMetric(float64(r.t90)/float64(time.Millisecond), "t90-ms")
					b.ReportMetric(float64(r.punished), "punished")
					b.ReportMetric(r.goodput, "req/s")
				})
			}
		}
	}
}

type matrixResult struct {
	goodput, warm, ideal, success, share429 float64
	p99, t90                                time.Duration
	punished                                int
}

func runMatrix(b *testing.B, sc scenario, stream bool, c matrixContender) matrixResult {
	cfg := sc.cfg
	cfg.Punishment = punishment
	cfg.RetryAfter = llmtest.RetryAfterNone
	cfg.Seed = 1
	srv := llmtest.NewServer(cfg)
	pool := &http.Transport{MaxIdleConnsPerHost: pacer.DefaultMaxIdleConnsPerHost, MaxIdleConns: pacer.DefaultMaxIdleConns}
	client, stop := c.client(pool, srv)
	defer func() {
		stop()
		srv.Close()
		pool.CloseIdleConnections()
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t90 := make(chan time.Duration, 1)
	start := time.Now()
	var sampler sync.WaitGroup
	sampler.Go(func() { sampleT90(ctx, srv, start, t90) })

	var (
		ok, failed atomic.Int64
		warm       atomic.Int64 // successes in the second half of the run
		mu         sync.Mutex
		latencies  []time.Duration
		wg         sync.WaitGroup
	)
	url := srv.URL() + "/chat/completions"
	deadline := start.Add(sc.run)
	// The run ends by cancellation, not by a deadline: a caller's request
	// carries no deadline a second away, and a deadline would make the
	// retry layer return a 429 it could not wait out before the end.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	endRun := time.AfterFunc(time.Until(deadline), stopRun)
	defer endRun.Stop()
	for i, model := range sc.models {
		body := matrixBody(model, stream)
		for range sc.callers[i] {
			wg.Go(func() {
				for runCtx.Err() == nil {
					t0 := time.Now()
					err := matrixCall(runCtx, client, url, model, body, stream)
					switch {
					case runCtx.Err() != nil:
						// Cut by the end of the run: neither success nor failure.
					case err == nil:
						ok.Add(1)
						end := time.Now()
						if end.Sub(start) >= sc.run/2 {
							warm.Add(1)
						}
						mu.Lock()
						latencies = append(latencies, end.Sub(t0))
						mu.Unlock()
					default:
						failed.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	st := srv.Stats()
	cancel()
	sampler.Wait()

	elapsed := sc.run.Seconds()
	mean := st.MeanLimit()
	for _, m := range st.Models {
		mean += m.MeanLimit(st.Elapsed)
	}
	r := matrixResult{
		goodput:  float64(ok.Load()) / elapsed,
		warm:     float64(warm.Load()) / (elapsed / 2),
		ideal:    mean / sc.meanAnswer().Seconds(),
		punished: st.Punishments,
		t90:      sc.run,
	}
	if n := ok.Load() + failed.Load(); n > 0 {
		r.success = float64(ok.Load()) / float64(n)
	}
	if st.Requests > 0 {
		r.share429 = float64(st.RateLimited) / float64(st.Requests)
	}
	if len(latencies) > 0 {
		slices.Sort(latencies)
		r.p99 = latencies[len(latencies)*99/100]
	}
	select {
	case r.t90 = <-t90:
	default:
	}
	return r
}

func matrixBody(model string, stream bool) []byte {
	b, _ := json.Marshal(map[string]any{
		"model":    model,
		"stream":   stream,
		"messages": []map[string]string{{"role": "user", "content": "Say hello."}},
	})
	return b
}

// matrixCall sends one chat completion and reads the answer to its end; it
// returns nil when the answer was complete.
func matrixCall(ctx context.Context, client *http.Client, url, model string, body []byte, stream bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(oracleModelHeader, model)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %d", resp.StatusCode)
	case stream && !bytes.HasSuffix(bytes.TrimSpace(data), []byte("data: [DONE]")):
		return errors.New("stream cut before [DONE]")
	case !stream && !json.Valid(bytes.TrimSpace(data)):
		return errors.New("answer is not JSON")
	}
	return nil
}

// sampleT90 sends, once, how long after start the requests in flight first
// reached 90 % of the limit, of every limited model at once when the server
// has several.
func sampleT90(ctx context.Context, srv *llmtest.Server, start time.Time, out chan<- time.Duration) {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		st := srv.Stats()
		reached := true
		if len(st.Models) == 0 {
			reached = st.Limit > 0 && float64(st.InFlight) >= 0.9*float64(st.Limit)
		}
		for _, m := range st.Models {
			reached = reached && float64(m.InFlight) >= 0.9*float64(m.Limit)
		}
		if reached {
			out <- time.Since(start)
			return
		}
	}
}

// oracleModelHeader tells the oracle a request's model without a parse.
const oracleModelHeader = "X-Bench-Model"

// oracle is a gate told the server's limit at every instant: it polls the
// server's limits (of the account and of each model) every millisecond and
// keeps at most that many requests in flight per model, each from its send
// to the end of its body, waiting in arrival order.
type oracle struct {
	srv    *llmtest.Server
	mu     sync.Mutex
	keys   map[string]*oracleKey
	done   chan struct{}
	poller sync.WaitGroup
}

type oracleKey struct {
	limit, inFlight int
	waiting         []chan struct{}
}

func newOracle(srv *llmtest.Server) *oracle {
	o := &oracle{srv: srv, keys: map[string]*oracleKey{}, done: make(chan struct{})}
	o.poll()
	o.poller.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-o.done:
				return
			case <-tick.C:
				o.poll()
			}
		}
	})
	return o
}

func (o *oracle) stop() {
	close(o.done)
	o.poller.Wait()
}

// poll reads the server's limits and admits the waiters they now allow.
func (o *oracle) poll() {
	st := o.srv.Stats()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.key("").limit = st.Limit
	for name, m := range st.Models {
		o.key(name).limit = m.Limit
	}
	for _, k := range o.keys {
		k.admit()
	}
}

// key is the state of a model with a limit of its own, or of the account
// (""). o.mu must be held.
func (o *oracle) key(model string) *oracleKey {
	k, ok := o.keys[model]
	if !ok {
		k = &oracleKey{}
		o.keys[model] = k
	}
	return k
}

// admit hands free slots to waiters in arrival order. o.mu must be held.
func (k *oracleKey) admit() {
	for len(k.waiting) > 0 && (k.limit <= 0 || k.inFlight < k.limit) {
		k.inFlight++
		close(k.waiting[0])
		k.waiting = k.waiting[1:]
	}
}

func (o *oracle) acquire(ctx context.Context, model string) (*oracleKey, error) {
	o.mu.Lock()
	k, ok := o.keys[model]
	if !ok {
		k = o.key("")
	}
	if len(k.waiting) == 0 && (k.limit <= 0 || k.inFlight < k.limit) {
		k.inFlight++
		o.mu.Unlock()
		return k, nil
	}
	ch := make(chan struct{})
	k.waiting = append(k.waiting, ch)
	o.mu.Unlock()
	select {
	case <-ch:
		return k, nil
	case <-ctx.Done():
		o.mu.Lock()
		defer o.mu.Unlock()
		if i := slices.Index(k.waiting, ch); i >= 0 {
			k.waiting = slices.Delete(k.waiting, i, i+1)
			return nil, ctx.Err()
		}
		// Admitted as the context ended: give the slot back.
		k.inFlight--
		k.admit()
		return nil, ctx.Err()
	}
}

func (o *oracle) release(k *oracleKey) {
	o.mu.Lock()
	k.inFlight--
	k.admit()
	o.mu.Unlock()
}

func (o *oracle) wrap(next http.RoundTripper) http.RoundTripper {
	return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		k, err := o.acquire(req.Context(), req.Header.Get(oracleModelHeader))
		if err != nil {
			httpbody.CloseRequest(req)
			return nil, err
		}
		resp, err := next.RoundTrip(req)
		if err != nil {
			o.release(k)
			return nil, err
		}
		resp.Body = httpbody.OnDone(resp.Body, func(error) { o.release(k) })
		return resp, nil
	})
}
