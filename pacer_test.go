package pacer_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/internal/loadgen"
	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

func TestLayerString(t *testing.T) {
	tests := []struct {
		l    pacer.Layer
		want string
	}{
		{0, "none"},
		{pacer.LayerRetry, "retry"},
		{pacer.LayerBreaker | pacer.LayerTelemetry, "telemetry|breaker"},
		{pacer.AllLayers, "telemetry|retry|breaker|quota|gate|keepalive"},
		{pacer.Layer(1 << 7), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("Layer(%d).String() = %q, want %q", uint8(tt.l), got, tt.want)
		}
	}
	if !pacer.AllLayers.Has(pacer.LayerGate | pacer.LayerRetry) {
		t.Error("AllLayers does not have gate|retry")
	}
	if pacer.LayerGate.Has(pacer.LayerGate | pacer.LayerRetry) {
		t.Error("LayerGate has gate|retry")
	}
}

func TestWithoutLeavesLayersOut(t *testing.T) {
	full := pacer.New(pacer.Config{})
	defer full.Close()
	if full.Retry == nil || full.Breaker == nil || full.Quota == nil || full.Gate == nil || full.KeepAlive == nil || full.Telemetry == nil {
		t.Fatalf("Config{} left a layer out: %+v", full)
	}
	st := pacer.New(pacer.Config{Without: pacer.LayerBreaker | pacer.LayerTelemetry})
	if st.Breaker != nil || st.Telemetry != nil {
		t.Error("Without did not leave the breaker and the telemetry out")
	}
	if st.Retry == nil || st.Gate == nil || st.KeepAlive == nil {
		t.Error("Without left out a layer it did not name")
	}

	// With every layer left out, requests go straight to the base: the
	// request and the response are the ones the base saw and made.
	var calls atomic.Int64
	body := io.NopCloser(strings.NewReader(`{}`))
	req, _ := http.NewRequest(http.MethodGet, "http://api.example.test/v1/models", nil)
	base := transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		if r != req {
			t.Error("a layer ran although all were left out: the base got another request")
		}
		h := http.Header{"Content-Type": {"application/json"}}
		return &http.Response{StatusCode: 200, Header: h, Body: body, Request: r}, nil
	})
	none := pacer.New(pacer.Config{Base: base, Without: pacer.AllLayers})
	if none.Retry != nil || none.Breaker != nil || none.Quota != nil || none.Gate != nil || none.KeepAlive != nil || none.Telemetry != nil {
		t.Fatalf("AllLayers left a layer in: %+v", none)
	}
	resp, err := none.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Body != body {
		t.Error("a layer ran although all were left out: the body was wrapped")
	}
	resp.Body.Close()
	if calls.Load() != 1 {
		t.Errorf("base called %d times, want 1", calls.Load())
	}
}

func TestNewClientHasNoTimeout(t *testing.T) {
	c := pacer.NewClient(pacer.Config{})
	if c.Timeout != 0 {
		t.Errorf("Timeout %v, want none: streams may be long", c.Timeout)
	}
	if _, ok := c.Transport.(*pacer.Stack); !ok {
		t.Errorf("Transport is %T, want *pacer.Stack", c.Transport)
	}
}

type idleCounter struct {
	http.RoundTripper
	n atomic.Int64
}

func (c *idleCounter) CloseIdleConnections() { c.n.Add(1) }

func TestCloseIdleConnectionsReachesBase(t *testing.T) {
	base := &idleCounter{RoundTripper: http.DefaultTransport}
	c := pacer.NewClient(pacer.Config{Base: base})
	c.CloseIdleConnections()
	if base.n.Load() != 1 {
		t.Errorf("base.CloseIdleConnections called %d times, want 1", base.n.Load())
	}
}

// Retry sits outside the gate: a request sleeping in backoff holds no permit.
// The gate sits outside the body: a response whose body is unread holds one.
func TestStackOrder(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"rate limited"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[]}`)
	}))
	defer srv.Close()
	st := pacer.New(pacer.Config{})
	defer st.CloseIdleConnections()
	inFlight := func() int { return st.Gate.Stats().InFlight }

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{}`))
		resp, err := st.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Wait for the 429 to be answered; the retry layer then sleeps 30s.
	testwait.For(t, func() bool { return n.Load() >= 1 && inFlight() == 0 }, "the 429 answered and its permit back")
	if n.Load() != 1 {
		t.Fatalf("server saw %d requests, want 1 (the 30s Retry-After was not honoured)", n.Load())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{}`))
	resp, err := st.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := inFlight(); got != 1 {
		t.Errorf("in flight %d with a body unread, want 1", got)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := inFlight(); got != 0 {
		t.Errorf("in flight %d after Close, want 0", got)
	}
}

// Each layer's field of Config reaches that layer.
func TestConfigReachesLayers(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{
		RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: time.Millisecond,
		Wait: llmtest.Wait{Duration: 2 * time.Second, Interval: 5 * time.Millisecond},
	})
	defer srv.Close()
	counter := &loadgen.Counter{Base: http.DefaultTransport.(*http.Transport).Clone()}
	st := pacer.New(pacer.Config{
		Base:      counter,
		Retry:     retry.Config{MaxAttempts: 1},
		Gate:      concurrency.Config{Limits: concurrency.Limits{Limit: 2}},
		KeepAlive: keepalive.Config{MaxWait: 20 * time.Millisecond},
	})
	defer st.CloseIdleConnections()

	srv.Script(llmtest.RateLimit)
	resp, err := chat(context.Background(), st.Client(), srv.URL(), false)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || counter.Stats().Attempts != 1 {
		t.Errorf("status %d after %d attempts; want the 429 after 1 (Retry.MaxAttempts)", resp.StatusCode, counter.Stats().Attempts)
	}
	if ks, ok := st.Gate.Stats().Key(strings.TrimPrefix(strings.TrimSuffix(srv.URL(), "/v1"), "http://") + " deepseek-chat"); !ok || ks.Limit != 2 {
		t.Errorf("gate key stats %+v (found %v), want limit 2 (Gate.Limit)", ks, ok)
	}

	srv.Script(llmtest.WaitThenAnswer)
	_, err = chat(context.Background(), st.Client(), srv.URL(), false)
	if !errors.Is(err, keepalive.ErrWaitTimeout) {
		t.Errorf("error %v, want keepalive.ErrWaitTimeout (KeepAlive.MaxWait)", err)
	}
}

// With the gate in the stack a 429 without a hint is retried after a short
// backoff (DefaultRateLimitedBaseDelay); without the gate, or with a negative
// RateLimitedBaseDelay, after retry's own BaseDelay.
func TestRateLimitedBackoffDefault(t *testing.T) {
	tests := []struct {
		name    string
		without pacer.Layer
		rl      time.Duration
		max     time.Duration // the delay is drawn from [0, max)
	}{
		{"with the gate", 0, 0, pacer.DefaultRateLimitedBaseDelay},
		{"without the gate", pacer.LayerGate, 0, time.Second},
		{"negative keeps BaseDelay", 0, -1, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := llmtest.NewServer(llmtest.Config{})
			defer srv.Close()
			var delays []time.Duration
			var mu sync.Mutex
			st := pacer.New(pacer.Config{
				Without: tt.without,
				Retry: retry.Config{
					BaseDelay: time.Second, RateLimitedBaseDelay: tt.rl,
					OnRetry: func(e retry.Event) {
						mu.Lock()
						delays = append(delays, e.Delay)
						mu.Unlock()
					},
				},
			})
			defer st.CloseIdleConnections()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv.Script(llmtest.RateLimit)
			// Cancel once the decision is made: a one-second sleep need not
			// be waited out.
			go func() {
				defer cancel()
				testwait.Until(func() bool {
					mu.Lock()
					defer mu.Unlock()
					return len(delays) > 0
				})
			}()
			resp, err := chat(ctx, st.Client(), srv.URL(), false)
			if err == nil {
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			if len(delays) != 1 || delays[0] >= tt.max {
				t.Errorf("delays %v, want one below %v", delays, tt.max)
			}
		})
	}
}

// jsonAnswer is a base transport that answers every request with a small
// JSON body, allocating the same on every call.
type jsonAnswer struct{}

func (jsonAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(`{"ok":true}`)),
		ContentLength: 11,
		Request:       req,
	}, nil
}

// The default stack costs five allocations per request on the success
// path: the body wrappers of the breaker, the gate and keepalive, and the
// copy of the body that the gate's key is read from (GetBody's reader and
// its closer). The idle deadline's timer is the filter's, the model's name
// and the key made of it are kept once, and no record is made when no one
// observes the request.
func TestStackAllocations(t *testing.T) {
	roundTrip := func(rt http.RoundTripper) func() {
		return func() {
			req, _ := http.NewRequest(http.MethodPost, "http://api.example.test/v1/chat/completions", strings.NewReader(`{"model":"deepseek-v4-pro"}`))
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
	stack := pacer.New(pacer.Config{Base: jsonAnswer{}})
	bare := testing.AllocsPerRun(200, roundTrip(jsonAnswer{}))
	full := testing.AllocsPerRun(200, roundTrip(stack))
	if added := full - bare; added > 5+raceSlack {
		t.Errorf("the stack adds %v allocations per request (%v against %v), want at most %d", added, full, bare, 5+raceSlack)
	}
	if s := stack.Gate.Stats(); s.InFlight != 0 {
		t.Errorf("%d in flight after every body was read", s.InFlight)
	}
}
