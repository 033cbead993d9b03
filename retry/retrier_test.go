package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
)

func get(t *testing.T, rt http.RoundTripper, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rt.RoundTrip(req)
}

func TestStatusDecisions(t *testing.T) {
	for _, code := range []int{408, 429, 500, 502, 503, 504, 529} {
		t.Run(fmt.Sprint(code, " retried"), func(t *testing.T) {
			srv := newScriptServer(t, reply{status: code})
			r, _ := newTestRetrier(Config{})
			resp, err := get(t, r.Wrap(nil), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(t, resp); resp.StatusCode != 200 || body != "reply 2" {
				t.Fatalf("got %d %q, want 200 \"reply 2\"", resp.StatusCode, body)
			}
		})
	}
	for _, code := range []int{400, 401, 402, 403, 404, 409, 422, 501, 505} {
		t.Run(fmt.Sprint(code, " not retried"), func(t *testing.T) {
			srv := newScriptServer(t, reply{status: code})
			r, s := newTestRetrier(Config{})
			resp, err := get(t, r.Wrap(nil), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(t, resp); resp.StatusCode != code || body != "reply 1" {
				t.Fatalf("got %d %q, want %d \"reply 1\"", resp.StatusCode, body, code)
			}
			if n := srv.requests(); n != 1 || len(s.get()) != 0 {
				t.Fatalf("server saw %d requests, %d sleeps; want 1, 0", n, len(s.get()))
			}
		})
	}
}

func TestShouldRetryHeaderOverrides(t *testing.T) {
	tests := []struct {
		name string
		rep  reply
		want int // requests the server sees
	}{
		{"true on 409", reply{status: 409, header: map[string]string{"X-Should-Retry": "true"}}, 2},
		{"false on 503", reply{status: 503, header: map[string]string{"X-Should-Retry": "false"}}, 1},
		{"other value ignored", reply{status: 503, header: map[string]string{"X-Should-Retry": "maybe"}}, 2},
		{"any case, spaces trimmed", reply{status: 409, header: map[string]string{"X-Should-Retry": " True "}}, 2},
		{"true on 200 ignored", reply{status: 200, header: map[string]string{"X-Should-Retry": "true"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.rep)
			r, _ := newTestRetrier(Config{})
			resp, err := get(t, r.Wrap(nil), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			if n := srv.requests(); n != tt.want {
				t.Fatalf("server saw %d requests, want %d", n, tt.want)
			}
		})
	}
}

func TestCustomShouldRetry(t *testing.T) {
	srv := newScriptServer(t, reply{status: 400}, reply{status: 429})
	var seen []transport.Outcome
	r, _ := newTestRetrier(Config{ShouldRetry: func(o transport.Outcome, resp *http.Response, err error) bool {
		seen = append(seen, o)
		return o == transport.ClientError
	}})
	resp, err := get(t, r.Wrap(nil), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != 429 {
		t.Fatalf("status %d, want 429 (the custom decision does not retry it)", resp.StatusCode)
	}
	if want := []transport.Outcome{transport.ClientError, transport.RateLimited}; !slices.Equal(seen, want) {
		t.Fatalf("ShouldRetry saw %v, want %v", seen, want)
	}
}

// errTransport fails every attempt with the errors it is given, in turn.
type errTransport struct {
	errs  []error
	calls int
}

func (e *errTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	httpbody.CloseRequest(req)
	err := e.errs[min(e.calls, len(e.errs)-1)]
	e.calls++
	return nil, err
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestErrorDecisions(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name  string
		err   error
		calls int
	}{
		{"refused", refused, 4},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, 4},
		{"EOF before headers", io.EOF, 4},
		{"closed while waiting to be scheduled", fmt.Errorf("keepalive: connection closed while waiting: %w", transport.ErrNoResponse), 4},
		{"timeout", &url.Error{Op: "Get", URL: "x", Err: timeoutErr{}}, 1},
		{"canceled", context.Canceled, 1},
		{"deadline", context.DeadlineExceeded, 1},
		{"rejected by a layer (breaker open, queue full)", fmt.Errorf("breaker: open: %w", transport.ErrRejected), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := &errTransport{errs: []error{tt.err}}
			r, _ := newTestRetrier(Config{})
			resp, err := get(t, r.Wrap(base), "http://example.invalid/")
			if resp != nil {
				t.Fatal("got a response with the error")
			}
			var re *Error
			if !errors.As(err, &re) || re.Attempts != tt.calls || !errors.Is(err, tt.err) {
				t.Fatalf("err = %v; want *Error with %d attempts wrapping %v", err, tt.calls, tt.err)
			}
			if base.calls != tt.calls {
				t.Fatalf("base called %d times, want %d", base.calls, tt.calls)
			}
		})
	}
}

func TestConnectionClosedBeforeHeadersIsRetried(t *testing.T) {
	srv := newScriptServer(t, reply{hangup: true})
	r, _ := newTestRetrier(Config{})
	resp, err := get(t, r.Wrap(&http.Transport{DisableKeepAlives: true}), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); body != "reply 2" {
		t.Fatalf("body %q, want \"reply 2\"", body)
	}
}

func TestErrorThenResponse(t *testing.T) {
	// An error followed by a 503 storm: the last real response wins.
	calls := 0
	base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			return nil, transport.ErrNoResponse
		}
		return &http.Response{StatusCode: 503, Body: io.NopCloser(strings.NewReader("busy")), Header: http.Header{}, Request: req}, nil
	})
	r, _ := newTestRetrier(Config{MaxAttempts: 2})
	resp, err := get(t, r.Wrap(base), "http://example.invalid/")
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("got %v, %v; want the 503", resp, err)
	}
	resp.Body.Close()
}

func TestNilResponseNilErrorFromBase(t *testing.T) {
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return nil, nil })
	r, _ := newTestRetrier(Config{MaxAttempts: 1})
	resp, err := get(t, r.Wrap(base), "http://example.invalid/")
	if resp != nil || !errors.Is(err, roundtrip.ErrNilResponse) {
		t.Fatalf("got %v, %v; want roundtrip.ErrNilResponse", resp, err)
	}
}

func TestBothResponseAndErrorFromBase(t *testing.T) {
	closed := 0
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
		body := &countedCloser{n: &closed}
		return &http.Response{StatusCode: 200, Body: body}, errors.New("boom")
	})
	r, _ := newTestRetrier(Config{})
	resp, err := get(t, r.Wrap(base), "http://example.invalid/")
	if resp != nil || err == nil {
		t.Fatalf("got %v, %v; want only an error", resp, err)
	}
	if closed != 4 {
		t.Fatalf("stray bodies closed %d times, want 4", closed)
	}
}

type countedCloser struct{ n *int }

func (c *countedCloser) Read([]byte) (int, error) { return 0, io.EOF }
func (c *countedCloser) Close() error             { *c.n++; return nil }

func TestBackoffFullJitterCapped(t *testing.T) {
	srv := newScriptServer(t, reply{status: 500}, reply{status: 500}, reply{status: 500}, reply{status: 500}, reply{status: 500})
	var bounds []int64
	r, s := newTestRetrier(Config{MaxAttempts: 6, BaseDelay: 100 * time.Millisecond, MaxDelay: 350 * time.Millisecond})
	r.rand = func(n int64) int64 { bounds = append(bounds, n); return n - 1 }
	resp, err := get(t, r.Wrap(nil), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	ms := time.Millisecond
	wantBounds := []int64{int64(100 * ms), int64(200 * ms), int64(350 * ms), int64(350 * ms), int64(350 * ms)}
	if !slices.Equal(bounds, wantBounds) {
		t.Fatalf("random bounds %v, want %v", bounds, wantBounds)
	}
	want := []time.Duration{100*ms - 1, 200*ms - 1, 350*ms - 1, 350*ms - 1, 350*ms - 1}
	if got := s.get(); !slices.Equal(got, want) {
		t.Fatalf("sleeps %v, want %v", got, want)
	}
}

func TestBackoffDefaults(t *testing.T) {
	r := New(Config{})
	r.rand = func(n int64) int64 { return n - 1 }
	if got := r.backoff(0, DefaultBaseDelay); got != DefaultBaseDelay-1 {
		t.Fatalf("backoff(0) = %v", got)
	}
	if got := r.backoff(100, DefaultBaseDelay); got != DefaultMaxDelay-1 {
		t.Fatalf("backoff(100) = %v, want capped at %v", got, DefaultMaxDelay)
	}
}

func TestServerHints(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		hint   time.Duration
	}{
		{"Retry-After seconds", map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{"Retry-After date", map[string]string{"Retry-After": now.Add(3 * time.Second).Format(http.TimeFormat), "Date": now.Format(http.TimeFormat)}, 3 * time.Second},
		{"retry-after-ms", map[string]string{"Retry-After-Ms": "250"}, 250 * time.Millisecond},
		{"x-ratelimit-reset-requests", map[string]string{"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "1m30.5s"}, 90500 * time.Millisecond},
		{"anthropic-ratelimit-requests-reset", map[string]string{"Anthropic-Ratelimit-Requests-Remaining": "0", "Anthropic-Ratelimit-Requests-Reset": now.Add(2 * time.Second).Format(time.RFC3339), "Date": now.Format(http.TimeFormat)}, 2 * time.Second},
		{"past date", map[string]string{"Retry-After": now.Add(-time.Second).Format(http.TimeFormat), "Date": now.Format(http.TimeFormat)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, reply{status: 429, header: tt.header})
			r, s := newTestRetrier(Config{BaseDelay: time.Hour, MaxRetryAfter: 2 * time.Minute})
			r.now = func() time.Time { return now }
			var events []Event
			r.onRetry = func(e Event) { events = append(events, e) }
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			resp, err := r.Wrap(nil).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			want := tt.hint + min(max(tt.hint/10, minHintJitter), maxHintJitter)/2
			if got := s.get(); !slices.Equal(got, []time.Duration{want}) {
				t.Fatalf("sleeps %v, want [%v] (hint plus jitter)", got, want)
			}
			if len(events) != 1 || !events[0].HasRetryAfter || events[0].RetryAfter != tt.hint || events[0].Decision != Retrying {
				t.Fatalf("events %+v", events)
			}
		})
	}
}

func TestResetHintNeedsRemainingZero(t *testing.T) {
	srv := newScriptServer(t, reply{status: 429, header: map[string]string{
		"X-Ratelimit-Remaining-Requests": "5", "X-Ratelimit-Reset-Requests": "40s",
	}})
	r, s := newTestRetrier(Config{BaseDelay: 100 * time.Millisecond})
	resp, err := get(t, r.Wrap(nil), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if got := s.get(); !slices.Equal(got, []time.Duration{50 * time.Millisecond}) {
		t.Fatalf("sleeps %v, want the backoff [50ms]", got)
	}
}

// TestOverflowingHintReturnsAtOnce: a hint too long for a Duration (20
// digits, the year 9999, an overflowing retry-after-ms) is a very long
// wait, which returns the 429 at once, as a hint of an hour does; it is
// not read as no hint and retried within milliseconds.
func TestOverflowingHintReturnsAtOnce(t *testing.T) {
	for _, h := range []map[string]string{
		{"Retry-After": "99999999999999999999"},
		{"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
		{"Retry-After-Ms": "100000000000000000000000000"},
		{"Retry-After": "3600"},
	} {
		srv := newScriptServer(t, reply{status: 429, header: h})
		r, s := newTestRetrier(Config{})
		var events []Event
		r.onRetry = func(e Event) { events = append(events, e) }
		resp, err := get(t, r.Wrap(nil), srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != 429 || len(s.get()) != 0 || srv.requests() != 1 {
			t.Errorf("%v: status %d, slept %v, server saw %d; want the 429 at once", h, resp.StatusCode, s.get(), srv.requests())
		}
		if len(events) != 1 || events[0].Decision != HintTooLong {
			t.Errorf("%v: events %+v, want one HintTooLong", h, events)
		}
	}
}

func TestHintBeyondMaxRetryAfterReturnsAtOnce(t *testing.T) {
	cc := newCloseCounter()
	srv := newScriptServer(t, reply{status: 429, header: map[string]string{"Retry-After": "121"}})
	r, s := newTestRetrier(Config{})
	var events []Event
	r.onRetry = func(e Event) { events = append(events, e) }
	resp, err := get(t, r.Wrap(cc), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 429 || body != "reply 1" {
		t.Fatalf("got %d %q, want the 429 with its body", resp.StatusCode, body)
	}
	if len(s.get()) != 0 || srv.requests() != 1 {
		t.Fatalf("slept %v, server saw %d; want no sleep and 1 request", s.get(), srv.requests())
	}
	if len(events) != 1 || events[0].Decision != HintTooLong || events[0].RetryAfter != 121*time.Second {
		t.Fatalf("events %+v", events)
	}
	if cc.closes.Load() != 1 {
		t.Fatalf("body closes %d, want 1", cc.closes.Load())
	}
}

func TestDelayPastDeadlineReturnsAtOnce(t *testing.T) {
	srv := newScriptServer(t, reply{status: 503})
	r, s := newTestRetrier(Config{BaseDelay: 4 * time.Hour, MaxDelay: 4 * time.Hour})
	var events []Event
	r.onRetry = func(e Event) { events = append(events, e) }
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := r.Wrap(nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 503 || body != "reply 1" {
		t.Fatalf("got %d %q, want the 503", resp.StatusCode, body)
	}
	if len(s.get()) != 0 || len(events) != 1 || events[0].Decision != PastDeadline {
		t.Fatalf("sleeps %v events %+v; want none and past_deadline", s.get(), events)
	}
}

func TestContextDoneAfterAttemptReturnsAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		cancel()
		return &http.Response{StatusCode: 429, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
	})
	r, s := newTestRetrier(Config{})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://example.invalid/", nil)
	resp, err := r.Wrap(base).RoundTrip(req)
	if err != nil || resp.StatusCode != 429 || len(s.get()) != 0 {
		t.Fatalf("got %v, %v, sleeps %v; want the 429 and no sleep", resp, err, s.get())
	}
}

func TestCancelStopsBackoffSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cc := newCloseCounter()
	srv := newScriptServer(t, reply{status: 429}, reply{status: 429})
	r := New(Config{BaseDelay: time.Hour, MaxDelay: time.Hour}) // real sleep
	r.rand = func(n int64) int64 { return n - 1 }
	r.onRetry = func(e Event) {
		if e.Decision == Retrying {
			cancel() // the sleep that follows must end at once
		}
	}
	// The body GetBody hands out for the second attempt is never sent: it
	// must be closed all the same.
	var opened, closed atomic.Int64
	newBody := func() (io.ReadCloser, error) {
		opened.Add(1)
		return &closeCounted{Reader: strings.NewReader("payload"), n: &closed}, nil
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
	req.Body = io.NopCloser(strings.NewReader("payload"))
	req.GetBody = newBody
	req.ContentLength = int64(len("payload"))
	resp, err := r.Wrap(cc).RoundTrip(req)
	var re *Error
	if resp != nil || !errors.Is(err, context.Canceled) || !errors.As(err, &re) || re.Attempts != 1 {
		t.Fatalf("got %v, %v; want *Error{1 attempt} wrapping context.Canceled", resp, err)
	}
	if srv.requests() != 1 || cc.closes.Load() != 1 {
		t.Fatalf("server saw %d, bodies closed %d; want 1, 1", srv.requests(), cc.closes.Load())
	}
	if opened.Load() != 1 || closed.Load() != 1 {
		t.Fatalf("request bodies from GetBody: opened %d, closed %d; want 1 and 1", opened.Load(), closed.Load())
	}
}

type closeCounted struct {
	io.Reader
	n *atomic.Int64
}

func (c *closeCounted) Close() error { c.n.Add(1); return nil }

func TestSleepContext(t *testing.T) {
	if err := sleepContext(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("sleep: %v", err)
	}
	if err := sleepContext(context.Background(), 0); err != nil {
		t.Fatalf("zero sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled sleep: %v", err)
	}
}

func TestExhaustionReturnsLastResponseAndClosesTheRest(t *testing.T) {
	cc := newCloseCounter()
	srv := newScriptServer(t, reply{status: 429}, reply{status: 503}, reply{status: 429}, reply{status: 429})
	r, s := newTestRetrier(Config{})
	r.sleep = func(ctx context.Context, d time.Duration) error {
		if cc.closes.Load() != cc.responses.Load() {
			t.Errorf("sleeping with %d responses and %d closes: a discarded body is still open", cc.responses.Load(), cc.closes.Load())
		}
		return s.sleep(ctx, d)
	}
	var decisions []Decision
	r.onRetry = func(e Event) { decisions = append(decisions, e.Decision) }
	resp, err := get(t, r.Wrap(cc), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := cc.closes.Load(); got != 3 {
		t.Fatalf("discarded bodies closed %d times before return, want 3", got)
	}
	if body := readAll(t, resp); resp.StatusCode != 429 || body != "reply 4" {
		t.Fatalf("got %d %q, want the last 429 with its body", resp.StatusCode, body)
	}
	if cc.responses.Load() != 4 || cc.closes.Load() != 4 || len(s.get()) != 3 {
		t.Fatalf("responses %d closes %d sleeps %d; want 4 4 3", cc.responses.Load(), cc.closes.Load(), len(s.get()))
	}
	if want := []Decision{Retrying, Retrying, Retrying, Exhausted}; !slices.Equal(decisions, want) {
		t.Fatalf("decisions %v, want %v", decisions, want)
	}
}

func TestMaxAttemptsOneMeansNoRetry(t *testing.T) {
	for _, n := range []int{1, -1} {
		srv := newScriptServer(t, reply{status: 429})
		r, _ := newTestRetrier(Config{MaxAttempts: n})
		resp, err := get(t, r.Wrap(nil), srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if srv.requests() != 1 {
			t.Fatalf("MaxAttempts %d: server saw %d requests, want 1", n, srv.requests())
		}
	}
}

func TestBodyReplayedIdentically(t *testing.T) {
	payload := bytes.Repeat([]byte(`{"model":"deepseek-chat","messages":[]}`), 100)
	tests := []struct {
		name string
		req  func(url string) *http.Request
	}{
		{"GetBody", func(url string) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
			return req
		}},
		{"buffered", func(url string) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, url, io.NopCloser(bytes.NewReader(payload)))
			return req
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, reply{status: 429}, reply{status: 502})
			r, _ := newTestRetrier(Config{})
			// The base reads each attempt's body itself, so that
			// http.Transport's own rewinding cannot hide a reused body.
			base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
				b, err := io.ReadAll(req.Body)
				req.Body.Close()
				if err != nil {
					return nil, err
				}
				out := req.Clone(req.Context())
				out.Body, out.GetBody, out.ContentLength = io.NopCloser(bytes.NewReader(b)), nil, int64(len(b))
				return http.DefaultTransport.RoundTrip(out)
			})
			resp, err := r.Wrap(base).RoundTrip(tt.req(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			bodies := srv.gotBodies()
			if len(bodies) != 3 {
				t.Fatalf("server saw %d requests, want 3", len(bodies))
			}
			for i, b := range bodies {
				if !bytes.Equal(b, payload) {
					t.Fatalf("attempt %d body differs (%d bytes)", i+1, len(b))
				}
			}
		})
	}
}

func TestNonReplayableBodySentOnce(t *testing.T) {
	payload := strings.Repeat("x", 100)
	srv := newScriptServer(t, reply{status: 429})
	r, s := newTestRetrier(Config{MaxReplayBuffer: 16})
	var events []Event
	r.onRetry = func(e Event) { events = append(events, e) }
	body := &reqBody{r: strings.NewReader(payload)}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	req.Body = body
	req.ContentLength = int64(len(payload))
	resp, err := r.Wrap(nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != 429 {
		t.Fatalf("status %d, want the 429", resp.StatusCode)
	}
	if bodies := srv.gotBodies(); len(bodies) != 1 || string(bodies[0]) != payload {
		t.Fatalf("server saw %d requests; want 1 with the whole body", len(bodies))
	}
	if len(s.get()) != 0 || len(events) != 1 || events[0].Decision != NotReplayable {
		t.Fatalf("sleeps %v events %+v; want none and not_replayable", s.get(), events)
	}
	if n := body.closes.Load(); n != 1 {
		t.Fatalf("request body closed %d times, want 1", n)
	}
}

type failingBody struct{ closes int }

func (b *failingBody) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }
func (b *failingBody) Close() error             { b.closes++; return nil }

func TestBodyReadErrorClosesBody(t *testing.T) {
	called := false
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) { called = true; return nil, nil })
	body := &failingBody{}
	req, _ := http.NewRequest(http.MethodPost, "http://example.invalid/", nil)
	req.Body = body
	resp, err := New(Config{}).Wrap(base).RoundTrip(req)
	var re *Error
	if resp != nil || !errors.As(err, &re) || re.Attempts != 0 || called {
		t.Fatalf("got %v, %v, base called %v; want *Error{0 attempts} and no call", resp, err, called)
	}
	if body.closes != 1 {
		t.Fatalf("request body closed %d times, want 1", body.closes)
	}
}

func TestCallerRequestUnchanged(t *testing.T) {
	srv := newScriptServer(t, reply{status: 429}, reply{status: 429})
	r, _ := newTestRetrier(Config{})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, io.NopCloser(strings.NewReader("hello")))
	req.Header.Set("Authorization", "Bearer k")
	before := *req
	beforeHeader := req.Header.Clone()
	resp, err := r.Wrap(nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if req.Body != before.Body || req.GetBody != nil || req.ContentLength != before.ContentLength ||
		req.Context() != before.Context() || !reflect.DeepEqual(req.Header, beforeHeader) || req.URL != before.URL {
		t.Fatal("the caller's request was modified")
	}
	if transport.RecordFrom(req.Context()) != nil {
		t.Fatal("a record was attached to the caller's request")
	}
}

func TestRecordFacts(t *testing.T) {
	srv := newScriptServer(t,
		reply{status: 503},
		reply{status: 429, header: map[string]string{"Retry-After": "3"}},
	)
	r, s := newTestRetrier(Config{BaseDelay: 100 * time.Millisecond})
	rec := new(transport.Record)
	var attemptsSeen []int
	base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		attemptsSeen = append(attemptsSeen, transport.RecordFrom(req.Context()).Facts().Attempts)
		return http.DefaultTransport.RoundTrip(req)
	})
	req, _ := http.NewRequestWithContext(transport.ContextWithRecord(context.Background(), rec), http.MethodGet, srv.URL, nil)
	resp, err := r.Wrap(base).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	f := rec.Facts()
	sl := s.get()
	if !slices.Equal(attemptsSeen, []int{1, 2, 3}) || f.Attempts != 3 {
		t.Fatalf("attempts seen %v, final %d; want [1 2 3], 3", attemptsSeen, f.Attempts)
	}
	if f.Backoff != sl[0]+sl[1] || f.RetryAfter != 3*time.Second || f.Outcome != transport.OK {
		t.Fatalf("facts %+v; want backoff %v, retry-after 3s, outcome ok", f, sl[0]+sl[1])
	}
}

func TestBudgetStopsRetries(t *testing.T) {
	cc := newCloseCounter()
	srv := newScriptServer(t, reply{status: 429}, reply{status: 429}, reply{status: 429})
	r, _ := newTestRetrier(Config{BudgetRatio: 0.5, BudgetMinRetries: -1})
	var decisions []Decision
	r.onRetry = func(e Event) { decisions = append(decisions, e.Decision) }
	// With no floor and a ratio of 0.5, one request allows no retry and two
	// requests allow one.
	req, rec := transport.EnsureRecord(mustNewRequest(t, srv.URL))
	resp, err := r.Wrap(cc).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 429 || body != "reply 1" {
		t.Fatalf("got %d %q; want the first 429 (0.5 × 1 request allows no retry)", resp.StatusCode, body)
	}
	if !rec.Facts().RetryRefused {
		t.Errorf("Facts.RetryRefused not set by the refused retry")
	}
	resp, err = get(t, r.Wrap(cc), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 429 || body != "reply 3" {
		t.Fatalf("got %d %q; want one retry (0.5 × 2 requests), then the 429", resp.StatusCode, body)
	}
	if want := []Decision{BudgetSpent, Retrying, BudgetSpent}; !slices.Equal(decisions, want) {
		t.Fatalf("decisions %v, want %v", decisions, want)
	}
	if cc.responses.Load() != cc.closes.Load() {
		t.Fatalf("responses %d, closes %d", cc.responses.Load(), cc.closes.Load())
	}
}

type idleCounter struct {
	http.RoundTripper
	n int
}

func (c *idleCounter) CloseIdleConnections() { c.n++ }

func TestCloseIdleConnectionsForwarded(t *testing.T) {
	c := &idleCounter{}
	rt := New(Config{}).Wrap(c)
	rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
	if c.n != 1 {
		t.Fatalf("forwarded %d times, want 1", c.n)
	}
}

func TestNilBaseIsDefaultTransport(t *testing.T) {
	rt := New(Config{}).Wrap(nil).(*roundTripper)
	if rt.next != http.DefaultTransport {
		t.Fatal("nil base is not http.DefaultTransport")
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Attempts: 1, Err: io.EOF}
	if got, want := e.Error(), "retry: gave up after 1 attempt: EOF"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	e.Attempts = 3
	if got, want := e.Error(), "retry: gave up after 3 attempts: EOF"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if Retrying.String() != "retrying" || BudgetSpent.String() != "budget_spent" || Decision(99).String() != "unknown" {
		t.Fatal("decision names")
	}
}

func TestBudgetSpentClosesPreparedBody(t *testing.T) {
	srv := newScriptServer(t, reply{status: 429})
	r, _ := newTestRetrier(Config{BudgetRatio: 0.5, BudgetMinRetries: -1})
	var opened, closed atomic.Int64
	req, _ := http.NewRequest(http.MethodPost, srv.URL, io.NopCloser(strings.NewReader("x")))
	req.ContentLength = 1
	req.GetBody = func() (io.ReadCloser, error) {
		opened.Add(1)
		return &closeCounted{Reader: strings.NewReader("x"), n: &closed}, nil
	}
	resp, err := r.Wrap(nil).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp); resp.StatusCode != 429 || srv.requests() != 1 {
		t.Fatalf("status %d after %d requests; want the 429 after 1", resp.StatusCode, srv.requests())
	}
	if opened.Load() != closed.Load() {
		t.Fatalf("request bodies from GetBody: opened %d, closed %d", opened.Load(), closed.Load())
	}
}

func TestConcurrentUse(t *testing.T) {
	script := make([]reply, 20)
	for i := range script {
		script[i] = reply{status: 429, header: map[string]string{"Retry-After-Ms": "1"}}
	}
	srv := newScriptServer(t, script...)
	cc := newCloseCounter()
	defer cc.CloseIdleConnections()
	r, _ := newTestRetrier(Config{BudgetRatio: -1})
	rt := r.Wrap(cc)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 10 {
				req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("body"))
				resp, err := rt.RoundTrip(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.requests(); n < 80 || cc.responses.Load() != cc.closes.Load() {
		t.Fatalf("server saw %d requests; responses %d, closes %d", n, cc.responses.Load(), cc.closes.Load())
	}
}

func TestRateLimitedBaseDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		status int
		want   []int64
	}{
		{"429 uses RateLimitedBaseDelay", 429, []int64{int64(10 * ms), int64(20 * ms)}},
		{"503 keeps BaseDelay", 503, []int64{int64(100 * ms), int64(200 * ms)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, reply{status: tt.status}, reply{status: tt.status}, reply{status: 200})
			var bounds []int64
			r, _ := newTestRetrier(Config{BaseDelay: 100 * ms, RateLimitedBaseDelay: 10 * ms})
			r.rand = func(n int64) int64 { bounds = append(bounds, n); return 0 }
			resp, err := get(t, r.Wrap(nil), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			if !slices.Equal(bounds, tt.want) {
				t.Fatalf("backoff bounds %v, want %v", bounds, tt.want)
			}
		})
	}
}

// TestRejectedAfterARealAnswerReturnsIt: when a layer below refuses to send
// a retry (the breaker opened after the first attempt's 503), the request
// returns that 503 with its body, the last answer the server gave, not
// the refusal.
func TestRejectedAfterARealAnswerReturnsIt(t *testing.T) {
	srv := newScriptServer(t, reply{status: 503})
	r, _ := newTestRetrier(Config{})
	var calls int
	refusing := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if calls++; calls > 1 {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, fmt.Errorf("circuit open: %w", transport.ErrRejected)
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req, rec := transport.EnsureRecord(req)
	resp, err := r.Wrap(refusing).RoundTrip(req)
	if err != nil {
		t.Fatalf("err = %v, want the 503", err)
	}
	if body := readAll(t, resp); resp.StatusCode != 503 || body != "reply 1" {
		t.Errorf("got %d %q, want the first attempt's 503 and its body", resp.StatusCode, body)
	}
	if f := rec.Facts(); f.Attempts != 1 || f.Outcome != transport.Overloaded || calls != 2 {
		t.Errorf("facts %+v after %d calls; want 1 attempt sent, overloaded, 2 calls", f, calls)
	}
}

// TestMalformedRequestSentOnce: a request that net/http refuses before
// sending anything (no header map, an ftp URL, no host) fails at once,
// after one attempt and no backoff, however often it would fail.
func TestMalformedRequestSentOnce(t *testing.T) {
	for name, mk := range map[string]func() *http.Request{
		"nil header": func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, "http://api.example.test/", nil)
			req.Header = nil
			return req
		},
		"ftp URL": func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, "ftp://api.example.test/", nil)
			return req
		},
		"no host": func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, "http:///v1", nil)
			return req
		},
	} {
		r, s := newTestRetrier(Config{})
		var calls int
		base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			calls++
			return http.DefaultTransport.RoundTrip(req)
		})
		_, err := r.Wrap(base).RoundTrip(mk())
		var re *Error
		if !errors.As(err, &re) || re.Attempts != 1 || calls != 1 || len(s.get()) != 0 {
			t.Errorf("%s: err %v, %d calls, slept %v; want an error after 1 attempt, no sleep", name, err, calls, s.get())
		}
	}
}

// TestCanceledRetryGetsTheContextError: when the retry is refused below
// because the caller's context ended while it waited there, the caller
// gets its context's error, not the previous attempt's answer.
func TestCanceledRetryGetsTheContextError(t *testing.T) {
	srv := newScriptServer(t, reply{status: 503})
	r, _ := newTestRetrier(Config{})
	ctx, cancel := context.WithCancel(context.Background())
	var calls int
	refusing := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if calls++; calls > 1 {
			cancel()
			return nil, fmt.Errorf("%w (%w)", context.Canceled, transport.ErrRejected)
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := r.Wrap(refusing).RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, %v; want context.Canceled", resp, err)
	}
}
