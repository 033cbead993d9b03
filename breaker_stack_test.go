package pacer_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
)

// TestQueuedDeadlinesDoNotOpenTheBreaker holds the gate's only permit with
// a slow answer while twelve callers, whose deadlines pass in the gate's
// queue, give up: none of them reached the server, so the circuit stays
// closed and the next request goes through.
func TestQueuedDeadlinesDoNotOpenTheBreaker(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{ServiceTime: 300 * time.Millisecond})
	defer srv.Close()
	var opened sync.Map
	st := pacer.New(pacer.Config{
		Gate:    concurrency.Config{Limits: concurrency.Limits{Limit: 1}},
		Breaker: breaker.Config{OnStateChange: func(key string, _, to breaker.State) { opened.Store(key, to) }},
	})
	defer st.CloseIdleConnections()
	c := st.Client()

	slow := make(chan error, 1)
	go func() {
		resp, err := chat(context.Background(), c, srv.URL(), false)
		if err == nil {
			err = readAnswer(resp, false)
			resp.Body.Close()
		}
		slow <- err
	}()
	testwait.For(t, func() bool { return srv.Stats().InFlight == 1 }, "the slow request admitted")

	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			resp, err := chat(ctx, c, srv.URL(), false)
			if err == nil {
				resp.Body.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("queued caller %d: err = %v, want context.DeadlineExceeded", i, err)
		}
	}
	if err := <-slow; err != nil {
		t.Fatalf("slow request: %v", err)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(srv.URL(), "http://"), "/v1")
	if got := st.Breaker.StateOf(host); got != breaker.Closed {
		t.Errorf("breaker %v after deadlines that passed in the queue, want closed", got)
	}
	opened.Range(func(k, v any) bool {
		t.Errorf("circuit %v went %v", k, v)
		return true
	})
	if n := srv.Stats().Requests; n != 1 {
		t.Errorf("the server saw %d requests, want 1", n)
	}
}

// TestFlakyNetworkBreakerKeepsUp sends 30 calls, one after another,
// through a network that resets half the connections, with and without
// the breaker: the default stack does at least as well as the stack
// without it (the circuit never opens), and then, when every connection is
// reset, the breaker still opens and fails fast.
func TestFlakyNetworkBreakerKeepsUp(t *testing.T) {
	run := func(without pacer.Layer, share float64) (ok int, errs []error, st *pacer.Stack) {
		srv := llmtest.NewServer(llmtest.Config{
			ServiceTime: time.Millisecond,
			Faults:      llmtest.Faults{ResetBeforeHeaders: share},
			Seed:        7,
		})
		defer srv.Close()
		st = pacer.New(pacer.Config{
			Without: without,
			// Short backoff, the same for both stacks, to keep the test
			// fast; the budget and the attempts are the defaults.
			Retry: retry.Config{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
		})
		defer st.CloseIdleConnections()
		for range 30 {
			resp, err := chat(context.Background(), st.Client(), srv.URL(), false)
			if err == nil {
				err = readAnswer(resp, false)
				resp.Body.Close()
			}
			if err == nil {
				ok++
			} else {
				errs = append(errs, err)
			}
		}
		return ok, errs, st
	}

	withBreaker, errs, st := run(0, 0.5)
	withoutBreaker, _, _ := run(pacer.LayerBreaker, 0.5)
	t.Logf("half the connections reset: %d of 30 with the breaker, %d without", withBreaker, withoutBreaker)
	if withBreaker < withoutBreaker {
		t.Errorf("%d of 30 succeeded with the breaker, %d without: want at least as many", withBreaker, withoutBreaker)
	}
	for _, err := range errs {
		if errors.Is(err, breaker.ErrOpen) {
			t.Errorf("a call failed with the circuit open on a flaky network: %v", err)
		}
	}
	if s := st.Breaker.State(); s != breaker.Closed {
		t.Errorf("breaker %v on a flaky network, want closed", s)
	}

	_, errs, _ = run(0, 1)
	open := 0
	for _, err := range errs {
		if errors.Is(err, breaker.ErrOpen) {
			open++
		}
	}
	if open == 0 {
		t.Errorf("no call failed fast when every connection was reset: %v", errs)
	}
}
