package goopenai_test

import (
	"context"
	"errors"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

// fastRetry is the retry layer's default policy with millisecond backoff,
// so that a storm fits in a test.
var fastRetry = retry.Config{BaseDelay: 2 * time.Millisecond, MaxDelay: 10 * time.Millisecond}

// Three 503s in a row are retried with backoff, and the SDK sees the answer
// of the fourth attempt.
func TestOverloadRiddenOut(t *testing.T) {
	srv := newServer(t, llmtest.Config{})
	srv.Script(llmtest.Overload, llmtest.Overload, llmtest.Overload)
	st := newStack(t, pacer.Config{Retry: fastRetry})
	c := newClient(srv, st.Client())

	rec := new(transport.Record)
	resp, err := c.CreateChatCompletion(transport.ContextWithRecord(context.Background(), rec), chatRequest)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != srv.Answer() {
		t.Errorf("content %q", resp.Choices[0].Message.Content)
	}
	f := rec.Facts()
	if f.Attempts != 4 || f.Backoff <= 0 || f.Outcome != transport.OK {
		t.Errorf("facts %+v, want 4 attempts with backoff, ok", f)
	}
	if n := srv.Stats().Overloaded; n != 3 {
		t.Errorf("server sent %d 503s, want 3", n)
	}
}

// A storm of 503s that outlasts every retry. Each call ends as go-openai's
// own *APIError for the last 503 (with the server's code) or, once the
// breaker has opened, fails fast with breaker.ErrOpen without reaching the
// server. Retries are spaced by backoff and stay within the retry budget, the
// gate never lets more requests through than its initial limit and does not
// raise it, and with the breaker in the stack it is open at the end.
func TestOverloadStorm(t *testing.T) {
	for _, tc := range []struct {
		name    string
		without pacer.Layer
	}{
		{"stack", 0},
		{"without breaker", pacer.LayerBreaker},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, llmtest.Config{Overload: []llmtest.Window{{Start: 0, Duration: time.Hour}}})
			st := newStack(t, pacer.Config{Retry: fastRetry, Without: tc.without})
			c := newClient(srv, st.Client())

			const calls, callers = 24, 6
			errNoBackoff := errors.New("retried without backoff")
			errs := parallel(calls, callers, func() error {
				rec := new(transport.Record)
				_, err := c.CreateChatCompletion(transport.ContextWithRecord(context.Background(), rec), chatRequest)
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
				var apiErr *openai.APIError
				switch {
				case errors.As(err, &apiErr):
					if apiErr.HTTPStatusCode != 503 || apiErr.Code != "server_overloaded" {
						t.Errorf("APIError %d %v, want 503 server_overloaded", apiErr.HTTPStatusCode, apiErr.Code)
					}
					typed++
				case st.Breaker != nil && errors.Is(err, breaker.ErrOpen):
					refused++
				default:
					t.Errorf("err = %v, want go-openai's *APIError or breaker.ErrOpen", err)
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
			for _, k := range st.Gate.Stats().Keys {
				if k.Limit > concurrency.DefaultInitialLimit {
					t.Errorf("gate limit of %s rose to %d during the storm", k.Key, k.Limit)
				}
			}
			if st.Breaker != nil {
				if got := st.Breaker.State(); got != breaker.Open {
					t.Errorf("breaker %v after the storm, want open", got)
				}
			} else if typed != calls {
				t.Errorf("%d calls got the SDK's error, want all %d", typed, calls)
			}
			t.Logf("%d attempts; %d calls got the SDK's error, %d were refused by the open breaker", s.Requests, typed, refused)
		})
	}
}
