package retry

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/replay"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
)

// Retrier retries requests that failed in a way worth retrying; see the
// package documentation for what, how long, and what it returns. Build one
// with [New] and share it: it is safe for concurrent use, and its retry
// budget covers every request made through any transport it wrapped.
type Retrier struct {
	maxAttempts   int
	baseDelay     time.Duration
	limitedDelay  time.Duration // base delay after a 429 without a hint
	maxDelay      time.Duration
	maxRetryAfter time.Duration
	maxBuffer     int64
	shouldRetry   func(transport.Outcome, *http.Response, error) bool
	onRetry       func(Event)
	budget        *budget

	// Injected by tests; the defaults are the real clock, timer and
	// math/rand/v2.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	rand  func(n int64) int64 // uniform in [0, n), n > 0
}

// New returns a Retrier configured by cfg; zero fields take the defaults
// documented on [Config].
func New(cfg Config) *Retrier {
	r := &Retrier{
		maxAttempts:   cfg.MaxAttempts,
		baseDelay:     cfg.BaseDelay,
		maxDelay:      cfg.MaxDelay,
		maxRetryAfter: cfg.MaxRetryAfter,
		maxBuffer:     cfg.MaxReplayBuffer,
		shouldRetry:   cfg.ShouldRetry,
		onRetry:       cfg.OnRetry,
		now:           time.Now,
		sleep:         sleepContext,
		rand:          rand.Int64N,
	}
	switch {
	case r.maxAttempts == 0:
		r.maxAttempts = DefaultMaxAttempts
	case r.maxAttempts < 0:
		r.maxAttempts = 1
	}
	if r.baseDelay <= 0 {
		r.baseDelay = DefaultBaseDelay
	}
	r.limitedDelay = cfg.RateLimitedBaseDelay
	if r.limitedDelay <= 0 {
		r.limitedDelay = r.baseDelay
	}
	if r.maxDelay <= 0 {
		r.maxDelay = DefaultMaxDelay
	}
	if r.maxRetryAfter <= 0 {
		r.maxRetryAfter = DefaultMaxRetryAfter
	}
	switch {
	case r.maxBuffer == 0:
		r.maxBuffer = replay.DefaultBuffer
	case r.maxBuffer < 0:
		r.maxBuffer = 0
	}
	if r.shouldRetry == nil {
		r.shouldRetry = DefaultShouldRetry
	}
	ratio, floor, window := cfg.BudgetRatio, cfg.BudgetMinRetries, cfg.BudgetWindow
	if ratio == 0 {
		ratio = DefaultBudgetRatio
	}
	switch {
	case floor == 0:
		floor = DefaultBudgetMinRetries
	case floor < 0:
		floor = 0
	}
	if window <= 0 {
		window = DefaultBudgetWindow
	}
	r.budget = newBudget(ratio, floor, window)
	return r
}

// Wrap returns a transport that sends requests through next, retrying as r
// decides. A nil next means [http.DefaultTransport]. Wrap is a
// [transport.Middleware].
func (r *Retrier) Wrap(next http.RoundTripper) http.RoundTripper {
	return &roundTripper{r: r, next: roundtrip.Base(next)}
}

type roundTripper struct {
	r    *Retrier
	next http.RoundTripper
}

// CloseIdleConnections forwards to the wrapped transport.
func (t *roundTripper) CloseIdleConnections() { roundtrip.CloseIdleConnections(t.next) }

// RoundTrip sends req, and sends it again while the attempts fail in a way
// worth retrying and the policy allows it.
func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	r := t.r
	if !wellFormed(req) {
		// net/http refuses it before sending a byte, and would each time:
		// one attempt, so that its error comes back at once.
		resp, err := roundtrip.Do(t.next, req)
		return finish(resp, err, 1)
	}
	ctx := req.Context()
	rec := transport.RecordFrom(ctx)
	// A body that cannot be replayed is left for Rewind to refuse.
	prepared, _, err := replay.Prepare(req, r.maxBuffer)
	if err != nil {
		// Replayable closed the body.
		return nil, &Error{Attempts: 0, Err: err}
	}
	r.budget.request(r.now())

	attemptReq := prepared
	// prev is what the previous attempt ended with: a response kept in
	// memory (nil when its body was too long to keep) or an error.
	var (
		prevResp    *http.Response
		prevErr     error
		prevOutcome transport.Outcome
	)
	for attempt := 1; ; attempt++ {
		rec.Update(func(f *transport.Facts) { f.Attempts = attempt })
		resp, err := roundtrip.Do(t.next, attemptReq)
		outcome := transport.Classify(resp, err)
		if outcome == transport.Rejected && (prevResp != nil || prevErr != nil) && ctx.Err() == nil {
			// A layer below refused to send this attempt (the breaker
			// opened since the last one): the last answer the server gave
			// is the request's result, not a refusal to send it. A caller
			// whose context ended gets its context's error instead.
			rec.Update(func(f *transport.Facts) { f.Attempts, f.Outcome = attempt-1, prevOutcome })
			return finish(prevResp, prevErr, attempt-1)
		}
		rec.Update(func(f *transport.Facts) { f.Outcome = outcome })
		if err != nil && outcome == transport.NetworkError && lengthMismatch(prepared) {
			// The body is not as long as the request says: net/http fails
			// the request the same way every time.
			return finish(resp, err, attempt)
		}
		if !r.shouldRetry(outcome, resp, err) {
			return finish(resp, err, attempt)
		}

		ev := Event{Attempt: attempt, Outcome: outcome, Err: err}
		if resp != nil {
			ev.StatusCode = resp.StatusCode
		}
		next := r.plan(ctx, prepared, resp, &ev)
		if r.onRetry != nil {
			r.onRetry(ev)
		}
		if ev.Decision != Retrying {
			if ev.Decision == BudgetSpent {
				rec.Update(func(f *transport.Facts) { f.RetryRefused = true })
			}
			return finish(resp, err, attempt)
		}

		prevResp, prevErr, prevOutcome = httpbody.Keep(resp), err, outcome
		if err := r.sleep(ctx, ev.Delay); err != nil {
			httpbody.CloseRequest(next)
			return nil, &Error{Attempts: attempt, Err: err}
		}
		rec.Update(func(f *transport.Facts) {
			f.Backoff += ev.Delay
			if ev.HasRetryAfter {
				f.RetryAfter = ev.RetryAfter
			}
		})
		attemptReq = next
	}
}

// lengthMismatch reports whether the body of req, read from a copy made by
// GetBody, is not as long as its ContentLength says: a fault of the
// request, which fails every attempt. It reads the copy only on the path
// of a failed attempt, and at most ContentLength+1 bytes of it.
func lengthMismatch(req *http.Request) bool {
	if req.ContentLength <= 0 || req.GetBody == nil {
		return false
	}
	rc, err := req.GetBody()
	if err != nil || rc == nil {
		return false
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(rc, req.ContentLength+1))
	return err == nil && n != req.ContentLength
}

// wellFormed reports whether req passes the checks net/http makes before
// it sends anything: a URL with an http or https scheme and a host, and a
// header map. A request that fails them is never retried.
func wellFormed(req *http.Request) bool {
	u := req.URL
	if u == nil || u.Host == "" || req.Header == nil {
		return false
	}
	return strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")
}

// plan fills in ev.Decision and ev.Delay for the attempt that ended with
// resp (nil when it ended in an error). When the decision is [Retrying] it
// returns the request for the next attempt, with a fresh body.
func (r *Retrier) plan(ctx context.Context, prepared *http.Request, resp *http.Response, ev *Event) *http.Request {
	if ctx.Err() != nil {
		ev.Decision = ContextDone
		return nil
	}
	if ev.Attempt >= r.maxAttempts {
		ev.Decision = Exhausted
		return nil
	}
	now := r.now()
	if resp != nil {
		ev.RetryAfter, ev.HasRetryAfter = serverHint(resp.Header, now)
	}
	if ev.HasRetryAfter {
		if ev.RetryAfter > r.maxRetryAfter {
			ev.Decision = HintTooLong
			ev.Delay = ev.RetryAfter
			return nil
		}
		ev.Delay = ev.RetryAfter + r.hintJitter(ev.RetryAfter)
	} else {
		base := r.baseDelay
		if ev.Outcome == transport.RateLimited {
			base = r.limitedDelay
		}
		ev.Delay = r.backoff(ev.Attempt-1, base)
	}
	if deadline, ok := ctx.Deadline(); ok && now.Add(ev.Delay).After(deadline) {
		ev.Decision = PastDeadline
		return nil
	}
	next, err := replay.Rewind(prepared)
	if err != nil {
		ev.Decision = NotReplayable
		return nil
	}
	if !r.budget.allowRetry(now) {
		httpbody.CloseRequest(next)
		ev.Decision = BudgetSpent
		return nil
	}
	ev.Decision = Retrying
	return next
}

// finish returns what the last attempt produced: its response as it is, or
// its error wrapped in an [*Error].
func finish(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if err != nil {
		return nil, &Error{Attempts: attempts, Err: err}
	}
	return resp, nil
}
