package anthropic_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

// A key out of credit comes back at once as the SDK's own *anthropic.Error
// after one attempt: not retried, the gate's limit untouched, the breaker
// closed.
func TestOutOfCredit(t *testing.T) {
	srv := newServer(t, llmtest.Config{QuotaExhaustedKey: "sk-ant-broke"})
	st := newStack(t, pacer.Config{Retry: fastRetry})
	c := newClient(srv, st.Client(), "sk-ant-broke")

	rec := new(transport.Record)
	_, err := c.Messages.New(transport.ContextWithRecord(context.Background(), rec), params)
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Fatalf("err = %v, want the SDK's 400 error", err)
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Errorf("server saw %d attempts, want 1", n)
	}
	for _, k := range st.Gate.Stats().Keys {
		if k.Limit != concurrency.DefaultInitialLimit {
			t.Errorf("gate limit of %s moved to %d", k.Key, k.Limit)
		}
	}
	if got := st.Breaker.State(); got != breaker.Closed {
		t.Errorf("breaker %v, want closed", got)
	}
}

// A storm of 529s that outlasts every retry: each call ends as the SDK's
// own 529 *anthropic.Error or, once the breaker has opened, breaker.ErrOpen
// without reaching the server; retries keep to the budget and are spaced
// by backoff, the gate never lets more through than its initial limit, and
// the breaker is open at the end.
func TestOverloadStorm(t *testing.T) {
	srv := newServer(t, llmtest.Config{Overload: []llmtest.Window{{Start: 0, Duration: time.Hour}}})
	st := newStack(t, pacer.Config{Retry: fastRetry})
	c := newClient(srv, st.Client(), "sk-ant-test")

	const calls, callers = 24, 6
	errNoBackoff := errors.New("retried without backoff")
	errs := parallel(calls, callers, func() error {
		rec := new(transport.Record)
		_, err := c.Messages.New(transport.ContextWithRecord(context.Background(), rec), params)
		if f := rec.Facts(); f.Attempts > 1 && f.Backoff <= 0 {
			return errNoBackoff
		}
		return err
	})
	if len(errs) != calls {
		t.Fatalf("%d of %d calls failed, want all", len(errs), calls)
	}
	var typed, refused int
	for _, err := range errs {
		var apiErr *anthropic.Error
		switch {
		case errors.As(err, &apiErr):
			if apiErr.StatusCode != 529 {
				t.Errorf("SDK error with status %d, want 529", apiErr.StatusCode)
			}
			typed++
		case errors.Is(err, breaker.ErrOpen):
			refused++
		default:
			t.Errorf("err = %v, want the SDK's *anthropic.Error or breaker.ErrOpen", err)
		}
	}
	s := srv.Stats()
	n := calls // the budget allows MinRetries + Ratio × requests
	if budget := int64(n + retry.DefaultBudgetMinRetries + int(retry.DefaultBudgetRatio*float64(n))); s.Requests > budget {
		t.Errorf("server saw %d attempts for %d calls, over the retry budget (%d)", s.Requests, calls, budget)
	}
	if s.PeakInFlight > concurrency.DefaultInitialLimit {
		t.Errorf("server saw %d in flight, over the gate's initial limit %d", s.PeakInFlight, concurrency.DefaultInitialLimit)
	}
	if got := st.Breaker.State(); got != breaker.Open {
		t.Errorf("breaker %v after the storm, want open", got)
	}
	t.Logf("%d attempts; %d calls got the SDK's error, %d were refused by the open breaker", s.Requests, typed, refused)
}

// An overloaded_error event as the first event of a 200 stream is the 529
// it names: retried, and the SDK streams the answer of the next attempt;
// when every attempt gets one, the SDK reports its own 529 error, as it
// would for a 529 status.
func TestErrorEvent(t *testing.T) {
	srv := newServer(t, llmtest.Config{})
	st := newStack(t, pacer.Config{Retry: fastRetry})
	c := newClient(srv, st.Client(), "sk-ant-test")

	srv.Script(llmtest.ErrorInStream)
	rec := new(transport.Record)
	got, err := stream(transport.ContextWithRecord(context.Background(), rec), c)
	if err != nil || got != srv.Answer() {
		t.Fatalf("stream = %q, %v; want the answer", got, err)
	}
	if f := rec.Facts(); f.Attempts != 2 {
		t.Errorf("facts %+v, want 2 attempts", f)
	}

	srv.Script(llmtest.ErrorInStream, llmtest.ErrorInStream, llmtest.ErrorInStream, llmtest.ErrorInStream)
	_, err = stream(context.Background(), c)
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 529 {
		t.Fatalf("err = %v, want the SDK's 529 error", err)
	}
}

// A stream whose events stop while the connection stays open ends, for
// anthropic-sdk-go, with keepalive.ErrStalled about IdleTimeout after its
// last event, with the gate's permit back.
func TestStalledStreamEnds(t *testing.T) {
	const idle = 200 * time.Millisecond
	srv := newServer(t, llmtest.Config{StreamChunks: 4, Faults: llmtest.Faults{StallAfter: 2}})
	srv.Script(llmtest.StallMidBody)
	st := newStack(t, pacer.Config{KeepAlive: keepalive.Config{IdleTimeout: idle}})
	c := newClient(srv, st.Client(), "sk-ant-test")

	start := time.Now()
	got, err := stream(context.Background(), c)
	took := time.Since(start)
	if !errors.Is(err, keepalive.ErrStalled) {
		t.Fatalf("stream ended with %v, want keepalive.ErrStalled", err)
	}
	if got == "" {
		t.Errorf("no text before the stall")
	}
	t.Logf("stalled stream ended after %v (IdleTimeout %v)", took, idle)
	if took < idle || took > 10*idle {
		t.Errorf("stream ended after %v, want about %v", took, idle)
	}
	st.Gate.EachKey(func(key string, _, inFlight, queued int) {
		if inFlight != 0 || queued != 0 {
			t.Errorf("gate %q: %d in flight, %d queued after the stall", key, inFlight, queued)
		}
	})
}
