package concurrency_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/transport"
)

func inFlight(g *concurrency.Gate) (inFlight, queued int) {
	s := g.Stats()
	return s.InFlight, s.Queued
}

func TestFixedLimitNeverExceeded(t *testing.T) {
	srv := newServer(t, 2*time.Millisecond)
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 4}})
	client := &http.Client{Transport: g.Wrap(nil)}
	defer client.CloseIdleConnections()

	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				resp, err := client.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if p := srv.peak.Load(); p > 4 {
		t.Errorf("server saw %d requests at once, limit 4", p)
	}
	if n, q := inFlight(g); n != 0 || q != 0 {
		t.Errorf("after the run: %d in flight, %d queued; want 0, 0", n, q)
	}
}

// TestAcquireNeverAboveLimit checks the limit with many goroutines in
// fixed mode and in adaptive mode (where the limit moves, but never above
// MaxLimit), under -race.
func TestAcquireNeverAboveLimit(t *testing.T) {
	for _, cfg := range []concurrency.Config{
		{Limits: concurrency.Limits{Limit: 5}},
		{Limits: concurrency.Limits{MaxLimit: 5, InitialLimit: 2}},
	} {
		g := concurrency.New(cfg)
		var cur, peak atomic.Int64
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), 1))
				for range 300 {
					release, err := g.Acquire(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					n := cur.Add(1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					if rng.IntN(4) == 0 {
						time.Sleep(time.Duration(rng.IntN(50)) * time.Microsecond)
					}
					cur.Add(-1)
					o := transport.OK
					if rng.IntN(10) == 0 {
						o = transport.RateLimited
					}
					release(o)
				}
			}()
		}
		wg.Wait()
		if p := peak.Load(); p > 5 {
			t.Errorf("%+v: %d permits held at once, limit 5", cfg, p)
		}
		if n, q := inFlight(g); n != 0 || q != 0 {
			t.Errorf("%+v: after the run: %d in flight, %d queued", cfg, n, q)
		}
	}
}

// TestChurn sends 10 000 requests with random cancellations, timeouts,
// unread and half-read bodies, and 429s; every permit comes back.
func TestChurn(t *testing.T) {
	srv := newServer(t, 0)
	var n atomic.Int64
	srv.status = func(*http.Request) int {
		if n.Add(1)%17 == 0 {
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	}
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{MaxLimit: 8, MaxQueue: 64, QueueTimeout: 20 * time.Millisecond}})
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: g.Wrap(tr)}

	const workers, total = 32, 10000
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			for next.Add(1) <= total {
				churnOne(t, g, client, srv.URL, rng)
			}
		}()
	}
	wg.Wait()
	if n, q := inFlight(g); n != 0 || q != 0 {
		t.Fatalf("after %d requests: %d in flight, %d queued; want 0, 0", total, n, q)
	}
}

func churnOne(t *testing.T, g *concurrency.Gate, client *http.Client, url string, rng *rand.Rand) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	switch rng.IntN(8) {
	case 0: // cancelled before it starts
		cancel()
	case 1: // cancelled soon, maybe while queued
		time.AfterFunc(time.Duration(rng.IntN(300))*time.Microsecond, cancel)
	case 2: // a deadline, maybe while queued
		var c context.CancelFunc
		ctx, c = context.WithTimeout(ctx, time.Duration(rng.IntN(500))*time.Microsecond)
		defer c()
	case 3: // outside HTTP
		release, err := g.Acquire(ctx)
		if err == nil {
			release(transport.OK)
		}
		return
	}
	if rng.IntN(2) == 0 {
		ctx = transport.WithPriority(ctx, transport.Background)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("hello"))
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	switch rng.IntN(3) {
	case 0:
		_, _ = io.Copy(io.Discard, resp.Body)
	case 1:
		_, _ = resp.Body.Read(make([]byte, 10))
	}
	if err := resp.Body.Close(); err != nil {
		t.Error(err)
	}
}

func TestPriority(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1}})
	hold, err := g.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	start := func(name string, p transport.Priority, queued int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := g.Acquire(transport.WithPriority(context.Background(), p))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			release(transport.OK)
		}()
		testwait.For(t, func() bool { _, q := inFlight(g); return q == queued }, name+" queued")
	}
	start("b1", transport.Background, 1)
	start("b2", transport.Background, 2)
	start("i1", transport.Interactive, 3)
	start("b3", transport.Background, 4)
	start("i2", transport.Interactive, 5)
	hold(transport.OK)
	wg.Wait()
	want := "i1 i2 b1 b2 b3"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("admission order %q, want %q", got, want)
	}
}

func TestQueueFull(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1, MaxQueue: 1}})
	hold, _ := g.Acquire(withKey("example.invalid"))
	ctx, cancel := context.WithCancel(withKey("example.invalid"))
	done := make(chan error)
	go func() {
		_, err := g.Acquire(ctx)
		done <- err
	}()
	testwait.For(t, func() bool { _, q := inFlight(g); return q == 1 }, "one queued")

	body := &countingBody{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest(http.MethodPost, "http://example.invalid/", body)
	called := false
	rt := g.Wrap(fakeTransport(func(r *http.Request) (*http.Response, error) {
		called = true
		return okResponse(r, 200), nil
	}))
	_, err := rt.RoundTrip(req)
	var qe *concurrency.QueueError
	if !errors.Is(err, concurrency.ErrQueueFull) || !errors.As(err, &qe) || qe.MaxQueue != 1 || qe.Key != "example.invalid" {
		t.Fatalf("err = %v, want ErrQueueFull for key example.invalid, MaxQueue 1", err)
	}
	if !strings.Contains(err.Error(), "MaxQueue") {
		t.Errorf("error %q does not name the limit", err)
	}
	if called || body.closes.Load() != 1 {
		t.Errorf("base called %v, body closed %d times; want false, 1", called, body.closes.Load())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled waiter: %v", err)
	}
	hold(transport.OK)
	if n, q := inFlight(g); n != 0 || q != 0 {
		t.Errorf("%d in flight, %d queued; want 0, 0", n, q)
	}
}

func TestNoQueue(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1, MaxQueue: -1}})
	hold, _ := g.Acquire(context.Background())
	if _, err := g.Acquire(context.Background()); !errors.Is(err, concurrency.ErrQueueFull) {
		t.Errorf("err = %v, want ErrQueueFull", err)
	}
	hold(transport.OK)
}

func TestQueueTimeout(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1, QueueTimeout: 5 * time.Millisecond}})
	hold, _ := g.Acquire(context.Background())
	_, err := g.Acquire(context.Background())
	var qe *concurrency.QueueError
	if !errors.Is(err, concurrency.ErrQueueTimeout) || !errors.As(err, &qe) || qe.Timeout != 5*time.Millisecond {
		t.Fatalf("err = %v, want ErrQueueTimeout after 5ms", err)
	}
	if errors.Is(err, concurrency.ErrQueueFull) || !strings.Contains(err.Error(), "QueueTimeout") {
		t.Errorf("error %q", err)
	}
	hold(transport.OK)
	if n, q := inFlight(g); n != 0 || q != 0 {
		t.Errorf("%d in flight, %d queued; want 0, 0", n, q)
	}
}

// TestQueueErrorsAreRejections checks that both queue errors match
// transport.ErrRejected, so that the retry layer does not send again a
// request the gate shed, and the breaker does not count it.
func TestQueueErrorsAreRejections(t *testing.T) {
	full := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1, MaxQueue: -1}})
	holdFull, _ := full.Acquire(context.Background())
	_, errFull := full.Acquire(context.Background())
	holdFull(transport.OK)

	slow := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1, QueueTimeout: time.Millisecond}})
	holdSlow, _ := slow.Acquire(context.Background())
	_, errTimeout := slow.Acquire(context.Background())
	holdSlow(transport.OK)

	for _, c := range []struct {
		err, sentinel error
	}{{errFull, concurrency.ErrQueueFull}, {errTimeout, concurrency.ErrQueueTimeout}} {
		if !errors.Is(c.err, c.sentinel) {
			t.Errorf("err = %v, want %v", c.err, c.sentinel)
		}
		if !errors.Is(c.err, transport.ErrRejected) {
			t.Errorf("%v does not match transport.ErrRejected", c.err)
		}
		if o := transport.Classify(nil, c.err); o != transport.Rejected {
			t.Errorf("Classify(%v) = %v, want %v", c.err, o, transport.Rejected)
		}
	}
}

func TestCancelWhileQueuedLeavesNoTrace(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1}})
	hold, _ := g.Acquire(withKey("h"))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://h/", nil)
		_, err := g.Wrap(fakeTransport(func(r *http.Request) (*http.Response, error) {
			return okResponse(r, 200), nil
		})).RoundTrip(req)
		errc <- err
	}()
	testwait.For(t, func() bool { _, q := inFlight(g); return q == 1 }, "queued")
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Nothing was sent: the breaker and the retry layer must not take it
	// for a failure of the server.
	var qe *concurrency.QueueError
	if !errors.As(err, &qe) || qe.Key != "h" || transport.Classify(nil, err) != transport.Rejected {
		t.Errorf("err = %v (%T), classified %v; want a *QueueError for key h, rejected", err, err, transport.Classify(nil, err))
	}
	if s, _ := g.Stats().Key("h"); s.InFlight != 1 || s.Queued != 0 {
		t.Errorf("key h: %+v, want 1 in flight, 0 queued", s)
	}
	hold(transport.OK)
	// The permit goes to the next comer, not to the cancelled request.
	release, err := g.Acquire(withKey("h"))
	if err != nil {
		t.Fatal(err)
	}
	release(transport.OK)
	if n, q := inFlight(g); n != 0 || q != 0 {
		t.Errorf("%d in flight, %d queued; want 0, 0", n, q)
	}
}

func TestPanicInBaseReleases(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1}})
	rt := g.Wrap(fakeTransport(func(*http.Request) (*http.Response, error) { panic("boom") }))
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the base's panic", r)
			}
		}()
		req, _ := http.NewRequest(http.MethodGet, "http://h/", nil)
		_, _ = rt.RoundTrip(req)
	}()
	if n, _ := inFlight(g); n != 0 {
		t.Errorf("%d in flight after a panic, want 0", n)
	}
}

func TestBaseErrorReleases(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1}})
	boom := errors.New("boom")
	body := &countingBody{Reader: strings.NewReader("x")}
	rt := g.Wrap(fakeTransport(func(r *http.Request) (*http.Response, error) {
		_ = r.Body.Close()
		return nil, boom
	}))
	req, _ := http.NewRequest(http.MethodPost, "http://h/", body)
	if _, err := rt.RoundTrip(req); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n, _ := inFlight(g); n != 0 || body.closes.Load() != 1 {
		t.Errorf("%d in flight, body closed %d times; want 0, 1", n, body.closes.Load())
	}

	// A base that returns neither a response nor an error.
	rt = g.Wrap(fakeTransport(func(*http.Request) (*http.Response, error) { return nil, nil }))
	req, _ = http.NewRequest(http.MethodGet, "http://h/", nil)
	if resp, err := rt.RoundTrip(req); err == nil || resp != nil {
		t.Errorf("got %v, %v; want an error", resp, err)
	}
	if n, _ := inFlight(g); n != 0 {
		t.Errorf("%d in flight, want 0", n)
	}
}

func TestPermitHeldUntilBodyDone(t *testing.T) {
	srv := newServer(t, 0)
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 2}})
	client := &http.Client{Transport: g.Wrap(nil)}
	defer client.CloseIdleConnections()

	for _, finish := range []string{"eof", "close", "close-unread"} {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := inFlight(g); n != 1 {
			t.Errorf("%s: %d in flight with the body unread, want 1", finish, n)
		}
		switch finish {
		case "eof":
			_, _ = io.Copy(io.Discard, resp.Body)
		case "close":
			_, _ = resp.Body.Read(make([]byte, 8))
			_ = resp.Body.Close()
		case "close-unread":
			_ = resp.Body.Close()
		}
		if n, _ := inFlight(g); n != 0 {
			t.Errorf("%s: %d in flight after the body is done, want 0", finish, n)
		}
		_ = resp.Body.Close() // a second Close releases nothing more
		if n, _ := inFlight(g); n != 0 {
			t.Errorf("%s: %d in flight after a second Close", finish, n)
		}
	}
}

func TestRecordAndRequestUnchanged(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1}})
	var seen *transport.Record
	rt := g.Wrap(fakeTransport(func(r *http.Request) (*http.Response, error) {
		seen = transport.RecordFrom(r.Context())
		return okResponse(r, 200), nil
	}))
	req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1", nil)
	ctx := req.Context()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if req.Context() != ctx {
		t.Error("the caller's request was modified")
	}
	if seen != nil {
		t.Errorf("the gate attached a record (%+v) to a request that carried none", seen.Facts())
	}

	// With a record in the context, queue time adds up in it.
	rec := new(transport.Record)
	hold, _ := g.Acquire(withKey("api.example"))
	go func() {
		testwait.For(t, func() bool { _, q := inFlight(g); return q == 1 }, "queued")
		hold(transport.OK)
	}()
	req, _ = http.NewRequestWithContext(transport.ContextWithRecord(context.Background(), rec), http.MethodGet, "http://api.example/v1", nil)
	resp, err = rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if f := rec.Facts(); f.GateWait <= 0 || f.GateKey != "api.example" || seen != rec {
		t.Errorf("facts %+v: want a positive GateWait and GateKey api.example", f)
	}
}

func withKey(key string) context.Context {
	return concurrency.WithKey(context.Background(), key)
}

func TestKeysAreIndependent(t *testing.T) {
	g := concurrency.New(concurrency.Config{
		Limits: concurrency.Limits{Limit: 1},
		Key:    func(r *http.Request) string { return r.Header.Get("Authorization") },
	})
	var held []*http.Response
	rt := g.Wrap(fakeTransport(func(r *http.Request) (*http.Response, error) { return okResponse(r, 200), nil }))
	for _, k := range []string{"Bearer a", "Bearer b", "Bearer c"} {
		req, _ := http.NewRequest(http.MethodGet, "http://h/", nil)
		req.Header.Set("Authorization", k)
		resp, err := rt.RoundTrip(req) // would wait forever if keys shared a limit
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, resp)
	}
	s := g.Stats()
	if len(s.Keys) != 3 || s.InFlight != 3 {
		t.Errorf("stats %+v, want 3 keys with one in flight each", s)
	}
	var keys int
	g.EachKey(func(key string, limit, inFlight, queued int) {
		keys++
		if limit != 1 || inFlight != 1 || queued != 0 {
			t.Errorf("EachKey %q: %d %d %d", key, limit, inFlight, queued)
		}
	})
	if keys != 3 {
		t.Errorf("EachKey saw %d keys", keys)
	}
	for _, r := range held {
		_ = r.Body.Close()
	}
}

func TestAcquireReleaseTwice(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1}})
	release, _ := g.Acquire(context.Background())
	release(transport.OK)
	other, _ := g.Acquire(context.Background())
	release(transport.OK) // must not release other's permit
	if n, _ := inFlight(g); n != 1 {
		t.Errorf("%d in flight, want 1", n)
	}
	other(transport.OK)
}

// scheduledBody is a response body that reports a schedule wait, as the
// keepalive layer's bodies do.
type scheduledBody struct {
	io.ReadCloser
	waited time.Duration
}

func (b scheduledBody) ScheduleWait() time.Duration { return b.waited }

// TestScheduleWaitStopsIncrease: responses that waited to be scheduled
// never raise an adaptive limit, however saturated the gate; the gate
// learns the wait from the body, through a wrapper of httpbody.OnDone.
func TestScheduleWaitStopsIncrease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, wait := range []bool{false, true} {
			g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{InitialLimit: 2, MaxQueue: 100}})
			rt := g.Wrap(fakeTransport(func(r *http.Request) (*http.Response, error) {
				time.Sleep(200 * time.Microsecond) // long enough for a queue to form
				resp := okResponse(r, 200)
				if wait {
					// Under a layer that wraps the body, as telemetry does.
					resp.Body = httpbody.OnDone(scheduledBody{ReadCloser: resp.Body, waited: time.Millisecond}, func(error) {})
				}
				return resp, nil
			}))
			saturate(t, rt, 8, 50)
			s, _ := g.Stats().Key("h")
			if wait && s.Limit != 2 {
				t.Errorf("with schedule waits the limit moved to %d, want 2", s.Limit)
			}
			if !wait && s.Limit <= 2 {
				t.Errorf("without schedule waits the limit stayed at %d", s.Limit)
			}
		}
	})
}

// delegatingLimiter is a limiter that takes its time before it hands the
// request to an in-process limiter, as a shared limiter falling back to
// its local one does.
type delegatingLimiter struct {
	concurrency.Limiter
	delay time.Duration
}

func (l delegatingLimiter) Acquire(ctx context.Context, key string, p transport.Priority) (concurrency.Permit, error) {
	time.Sleep(l.delay)
	return l.Limiter.Acquire(ctx, key, p)
}

// TestGateWaitOfWrappingLimiter: a permit of an in-process limiter that
// another limiter wraps was not granted when the gate asked; the gate's
// wait counts the time the wrapper took.
func TestGateWaitOfWrappingLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const delay = 5 * time.Millisecond
		g := concurrency.New(concurrency.Config{Limiter: delegatingLimiter{concurrency.NewLimiter(concurrency.Config{}), delay}})
		rt := g.Wrap(fakeTransport(func(r *http.Request) (*http.Response, error) { return okResponse(r, 200), nil }))
		rec := new(transport.Record)
		req, _ := http.NewRequestWithContext(transport.ContextWithRecord(context.Background(), rec), http.MethodGet, "http://h/", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got := rec.Facts().GateWait; got < delay {
			t.Errorf("GateWait %v, want at least the %v the wrapping limiter took", got, delay)
		}
	})
}

// TestBusyLearnedWhenTheResponseStarts: a response that waited to be
// scheduled teaches the gate when it starts. Closing its stream much later
// does not undo the raises that answers served at once made meanwhile.
func TestBusyLearnedWhenTheResponseStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{InitialLimit: 2, MaxQueue: 1000}})
		rt := g.Wrap(fakeTransport(func(r *http.Request) (*http.Response, error) {
			time.Sleep(200 * time.Microsecond) // long enough for a queue to form
			resp := okResponse(r, 200)
			if r.Header.Get("X-Stream") != "" {
				resp.Body = scheduledBody{ReadCloser: resp.Body, waited: time.Second}
			}
			return resp, nil
		}))
		req, _ := http.NewRequest(http.MethodGet, "http://h/", nil)
		req.Header.Set("X-Stream", "1")
		stream, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		saturate(t, rt, 8, 50)
		before, _ := g.Stats().Key("h")
		if before.Limit <= 2 {
			t.Fatalf("answers served at once left the limit at %d; the test needs a raise", before.Limit)
		}
		_ = stream.Body.Close()
		after, _ := g.Stats().Key("h")
		if after.Limit != before.Limit || after.InFlight != 0 {
			t.Errorf("closing the stream moved the limit from %d to %d (%d in flight); want it unchanged, 0",
				before.Limit, after.Limit, after.InFlight)
		}
	})
}
