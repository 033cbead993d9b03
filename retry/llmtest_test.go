package retry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
	"github.com/pacerhttp/pacer/transport"
)

const chatBody = `{"model":"deepseek-chat","messages":[{"role":"user","content":"Say hello."}]}`

func chatRequest(t *testing.T, ctx context.Context, srv *llmtest.Server, key string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL()+"/chat/completions", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

func TestLLMRateLimitStorm(t *testing.T) {
	modes := []struct {
		name    string
		mode    llmtest.RetryAfterMode
		hinted  bool
		minHint time.Duration
		maxHint time.Duration
	}{
		{"none", llmtest.RetryAfterNone, false, 0, 0},
		{"seconds", llmtest.RetryAfterSeconds, true, time.Second, time.Second},
		{"http-date", llmtest.RetryAfterHTTPDate, true, 0, 2 * time.Second}, // whole seconds against the Date header
		{"millis", llmtest.RetryAfterMillis, true, time.Second, time.Second},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			srv := llmtest.NewServer(llmtest.Config{RetryAfter: m.mode, RetryAfterDelay: time.Second, RecordRequests: true})
			defer srv.Close()
			srv.Script(llmtest.RateLimit, llmtest.RateLimit, llmtest.RateLimit)
			cc := newCloseCounter()
			defer cc.CloseIdleConnections()
			r, s := newTestRetrier(Config{})
			var events []Event
			r.onRetry = func(e Event) { events = append(events, e) }

			req := chatRequest(t, context.Background(), srv, "k")
			req, rec := transport.EnsureRecord(req)
			resp, err := r.Wrap(cc).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "chat.completion") {
				t.Fatalf("got %d %q, want the completion", resp.StatusCode, body)
			}
			if st := srv.Stats(); st.RateLimited != 3 {
				t.Fatalf("server rate limited %d requests, want 3", st.RateLimited)
			}
			if f := rec.Facts(); f.Attempts != 4 || f.Outcome != transport.OK {
				t.Fatalf("facts %+v, want 4 attempts ending ok", f)
			}
			// Every discarded 429 body was closed, and so was the answer.
			if cc.responses.Load() != 4 || cc.closes.Load() != 4 {
				t.Fatalf("responses %d, body closes %d; want 4, 4", cc.responses.Load(), cc.closes.Load())
			}
			// The body arrived byte-identical on every attempt.
			reqs := srv.Requests()
			if len(reqs) != 4 {
				t.Fatalf("server recorded %d requests, want 4", len(reqs))
			}
			for i, rr := range reqs {
				if !bytes.Equal(rr.Body, []byte(chatBody)) {
					t.Fatalf("attempt %d body %q, want %q", i+1, rr.Body, chatBody)
				}
			}
			sl := s.get()
			if len(events) != 3 || len(sl) != 3 {
				t.Fatalf("events %d, sleeps %d; want 3, 3", len(events), len(sl))
			}
			for i, e := range events {
				if e.Decision != Retrying || e.StatusCode != 429 || e.HasRetryAfter != m.hinted {
					t.Fatalf("event %d: %+v", i, e)
				}
				if !m.hinted {
					if want := DefaultBaseDelay << i / 2; sl[i] != want {
						t.Fatalf("sleep %d = %v, want the backoff %v", i, sl[i], want)
					}
					continue
				}
				if e.RetryAfter < m.minHint || e.RetryAfter > m.maxHint {
					t.Fatalf("hint %v, want in [%v, %v]", e.RetryAfter, m.minHint, m.maxHint)
				}
				if want := e.RetryAfter + min(max(e.RetryAfter/10, minHintJitter), maxHintJitter)/2; sl[i] != want {
					t.Fatalf("sleep %d = %v, want the hint plus jitter %v", i, sl[i], want)
				}
			}
		})
	}
}

func TestLLMExhaustionReturnsLast429(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{RetryAfter: llmtest.RetryAfterMillis, RetryAfterDelay: 20 * time.Millisecond})
	defer srv.Close()
	srv.Script(llmtest.RateLimit, llmtest.RateLimit, llmtest.RateLimit, llmtest.RateLimit, llmtest.RateLimit)
	cc := newCloseCounter()
	defer cc.CloseIdleConnections()
	r, _ := newTestRetrier(Config{})
	resp, err := r.Wrap(cc).RoundTrip(chatRequest(t, context.Background(), srv, "k"))
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	var apiErr struct {
		Error struct{ Message string } `json:"error"`
	}
	if resp.StatusCode != 429 || json.Unmarshal([]byte(body), &apiErr) != nil || apiErr.Error.Message == "" {
		t.Fatalf("got %d %q; want the 429 with its error JSON intact", resp.StatusCode, body)
	}
	if st := srv.Stats(); st.RateLimited != 4 {
		t.Fatalf("server rate limited %d, want 4 (MaxAttempts)", st.RateLimited)
	}
	if cc.responses.Load() != 4 || cc.closes.Load() != 4 {
		t.Fatalf("responses %d, closes %d; want 4, 4", cc.responses.Load(), cc.closes.Load())
	}
}

func TestLLMPaymentRequiredNotRetried(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{PaymentRequiredKey: "broke", RecordRequests: true})
	defer srv.Close()
	r, s := newTestRetrier(Config{})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := r.Wrap(tr).RoundTrip(chatRequest(t, context.Background(), srv, "broke"))
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != http.StatusPaymentRequired {
		t.Fatalf("status %d, want 402", resp.StatusCode)
	}
	if n, st := len(srv.Requests()), srv.Stats(); n != 1 || st.PaymentRequired != 1 || len(s.get()) != 0 {
		t.Fatalf("server saw %d requests (%d payment required), %d sleeps; want 1, 1, 0", n, st.PaymentRequired, len(s.get()))
	}
}

func TestLLMCancelStopsBackoff(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{RecordRequests: true})
	defer srv.Close()
	srv.Script(llmtest.RateLimit, llmtest.RateLimit)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := New(Config{BaseDelay: time.Hour, MaxDelay: time.Hour}) // real, hour-long sleep
	r.rand = func(n int64) int64 { return n - 1 }
	r.onRetry = func(e Event) {
		if e.Decision == Retrying {
			cancel()
		}
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := r.Wrap(tr).RoundTrip(chatRequest(t, ctx, srv, "k"))
	if resp != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, %v; want context.Canceled", resp, err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("server saw %d requests, want 1", n)
	}
}

func TestLLMNonReplayableSentOnce(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{RecordRequests: true})
	defer srv.Close()
	srv.Script(llmtest.RateLimit)
	r, s := newTestRetrier(Config{MaxReplayBuffer: 8})
	req := chatRequest(t, context.Background(), srv, "k")
	req.Body, req.GetBody = io.NopCloser(strings.NewReader(chatBody)), nil
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := r.Wrap(tr).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != 429 {
		t.Fatalf("status %d, want the 429", resp.StatusCode)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || string(reqs[0].Body) != chatBody || len(s.get()) != 0 {
		t.Fatalf("server saw %d requests, sleeps %v; want 1 with the whole body, no sleep", len(reqs), s.get())
	}
}

func TestLLMConnectionResets(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{})
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()

	srv.Script(llmtest.ResetBeforeHeaders)
	r, _ := newTestRetrier(Config{})
	resp, err := r.Wrap(tr).RoundTrip(chatRequest(t, context.Background(), srv, "k"))
	if err != nil {
		t.Fatalf("a reset before the headers was not retried: %v", err)
	}
	if readAll(t, resp); resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}

	srv.Script(llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders, llmtest.ResetBeforeHeaders)
	resp, err = r.Wrap(tr).RoundTrip(chatRequest(t, context.Background(), srv, "k"))
	var re *Error
	if resp != nil || !errors.As(err, &re) || re.Attempts != 4 {
		t.Fatalf("got %v, %v; want *Error after 4 attempts", resp, err)
	}
}
