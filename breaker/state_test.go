package breaker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pacerhttp/pacer/transport"
)

// testConfig opens a circuit when half of at least 4 requests fail, within
// a window far longer than any test, stays open 10s of fake time, and
// admits 2 probes.
func testConfig() Config {
	return Config{FailureRate: 0.5, MinRequests: 4, Period: time.Hour, Delay: 10 * time.Second, Probes: 2}
}

func TestLifecycle(t *testing.T) {
	var log hookLog
	cfg := testConfig()
	cfg.OnStateChange = log.hook
	b, clk := newTestBreaker(cfg)
	srv := newStatusServer(t)
	c := newClient(t, b)
	key := srv.Listener.Addr().String()

	// Closed: 2 successes and 1 failure are below the threshold.
	mustStatus(t, c, srv.url(200), 200)
	mustStatus(t, c, srv.url(200), 200)
	mustStatus(t, c, srv.url(503), 503)
	if got := b.StateOf(key); got != Closed {
		t.Fatalf("after 3 requests: state %v, want closed", got)
	}
	// The 4th request, a 500, makes 2 failures in 4: open.
	mustStatus(t, c, srv.url(500), 500)
	if got := b.StateOf(key); got != Open {
		t.Fatalf("after threshold: state %v, want open", got)
	}
	if got := b.State(); got != Open {
		t.Fatalf("State() = %v, want open", got)
	}

	// Open: fail fast without touching the server.
	before := srv.requests.Load()
	oe := mustOpenError(t, c, srv.url(200))
	if oe.Key != key || oe.State != Open || oe.Remaining != 10*time.Second {
		t.Fatalf("OpenError = %+v, want key %s, open, 10s remaining", oe, key)
	}
	clk.Advance(9 * time.Second)
	oe = mustOpenError(t, c, srv.url(200))
	if oe.Remaining != time.Second {
		t.Fatalf("Remaining = %v after 9s, want 1s", oe.Remaining)
	}
	if got := srv.requests.Load(); got != before {
		t.Fatalf("server saw %d requests while open, want 0", got-before)
	}

	// After the delay: half-open, probes go through.
	clk.Advance(time.Second)
	f, code, err := facts(t, c, srv.url(200), transport.Background)
	if err != nil || code != 200 {
		t.Fatalf("probe 1: %d, %v", code, err)
	}
	if f.BreakerState != "half-open" || f.Fallback {
		t.Fatalf("probe 1 facts: state %q fallback %v, want half-open, false", f.BreakerState, f.Fallback)
	}
	if got := b.StateOf(key); got != HalfOpen {
		t.Fatalf("after 1 probe: state %v, want half-open", got)
	}
	mustStatus(t, c, srv.url(200), 200)
	if got := b.StateOf(key); got != Closed {
		t.Fatalf("after 2 probes: state %v, want closed", got)
	}
	f, _, _ = facts(t, c, srv.url(200), transport.Background)
	if f.BreakerState != "closed" {
		t.Fatalf("closed facts: state %q", f.BreakerState)
	}

	want := []transition{{key, Closed, Open}, {key, Open, HalfOpen}, {key, HalfOpen, Closed}}
	if diff := cmp.Diff(want, log.get(), cmp.AllowUnexported(transition{})); diff != "" {
		t.Fatalf("OnStateChange (-want +got):\n%s", diff)
	}
}

// openCircuit sends failures until the circuit of srv opens.
func openCircuit(t *testing.T, b *Breaker, c *http.Client, srv *statusServer) {
	t.Helper()
	for range b.cfg.MinRequests {
		mustStatus(t, c, srv.url(503), 503)
	}
	if got := b.StateOf(srv.Listener.Addr().String()); got != Open {
		t.Fatalf("state %v, want open", got)
	}
}

func TestFailedProbeReopens(t *testing.T) {
	var log hookLog
	cfg := testConfig()
	cfg.OnStateChange = log.hook
	b, clk := newTestBreaker(cfg)
	srv := newStatusServer(t)
	c := newClient(t, b)
	key := srv.Listener.Addr().String()
	openCircuit(t, b, c, srv)

	clk.Advance(10 * time.Second)
	mustStatus(t, c, srv.url(200), 200) // probe 1 succeeds
	mustStatus(t, c, srv.url(503), 503) // probe 2 fails
	if got := b.StateOf(key); got != Open {
		t.Fatalf("after a failed probe: state %v, want open", got)
	}
	// A full delay again, counted from the re-opening.
	clk.Advance(9 * time.Second)
	if oe := mustOpenError(t, c, srv.url(200)); oe.Remaining != time.Second {
		t.Fatalf("Remaining = %v, want 1s", oe.Remaining)
	}
	clk.Advance(time.Second)
	mustStatus(t, c, srv.url(200), 200)
	if got := b.StateOf(key); got != HalfOpen {
		t.Fatalf("state %v, want half-open", got)
	}
	want := []transition{
		{key, Closed, Open}, {key, Open, HalfOpen}, {key, HalfOpen, Open}, {key, Open, HalfOpen},
	}
	if diff := cmp.Diff(want, log.get(), cmp.AllowUnexported(transition{})); diff != "" {
		t.Fatalf("OnStateChange (-want +got):\n%s", diff)
	}
}

func TestHalfOpenBoundsProbes(t *testing.T) {
	b, clk := newTestBreaker(testConfig())
	srv := newStatusServer(t)
	c := newClient(t, b)
	key := srv.Listener.Addr().String()
	openCircuit(t, b, c, srv)
	clk.Advance(10 * time.Second)

	// Two probes whose bodies are still open hold both permits.
	var open []*http.Response
	for range 2 {
		resp, err := c.Get(srv.url(200))
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, resp)
	}
	before := srv.requests.Load()
	if oe := mustOpenError(t, c, srv.url(200)); oe.State != HalfOpen || oe.Remaining != 0 {
		t.Fatalf("third probe: %+v, want half-open, 0 remaining", oe)
	}
	if srv.requests.Load() != before {
		t.Fatal("a refused probe reached the server")
	}
	if got := b.StateOf(key); got != HalfOpen {
		t.Fatalf("state %v, want half-open while probes are in flight", got)
	}
	// The probes succeed when their bodies end.
	for _, resp := range open {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	if got := b.StateOf(key); got != Closed {
		t.Fatalf("state %v, want closed after the probes' bodies ended", got)
	}
}

func TestEarlyCloseIsSuccess(t *testing.T) {
	b, clk := newTestBreaker(testConfig())
	srv := newStatusServer(t)
	c := newClient(t, b)
	openCircuit(t, b, c, srv)
	clk.Advance(10 * time.Second)
	for range 2 {
		resp, err := c.Get(srv.url(200))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close() // before EOF
	}
	if got := b.StateOf(srv.Listener.Addr().String()); got != Closed {
		t.Fatalf("state %v, want closed: early-closed probes are successes", got)
	}
}

func TestClientErrorsNeverCount(t *testing.T) {
	for _, tc := range []struct {
		name      string
		code      int
		countRate bool
		want      State
	}{
		{"402", http.StatusPaymentRequired, false, Closed},
		{"400", http.StatusBadRequest, false, Closed},
		{"401", http.StatusUnauthorized, false, Closed},
		{"429 by default", http.StatusTooManyRequests, false, Closed},
		{"429 counted", http.StatusTooManyRequests, true, Open},
		{"529", 529, false, Open},
		{"502", http.StatusBadGateway, false, Open},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.CountRateLimited = tc.countRate
			b, _ := newTestBreaker(cfg)
			srv := newStatusServer(t)
			c := newClient(t, b)
			for range 20 {
				if _, err := get(context.Background(), t, c, srv.url(tc.code)); err != nil {
					break
				}
			}
			if got := b.StateOf(srv.Listener.Addr().String()); got != tc.want {
				t.Fatalf("state %v after 20 × %d, want %v", got, tc.code, tc.want)
			}
		})
	}
}

func TestNetworkErrorsCount(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // connections are now refused
	b, _ := newTestBreaker(testConfig())
	c := newClient(t, b)
	for range 4 {
		if _, err := get(context.Background(), t, c, "http://"+addr+"/v1/models"); err == nil {
			t.Fatal("want a connection error")
		}
	}
	if got := b.StateOf(addr); got != Open {
		t.Fatalf("state %v after 4 refused connections, want open", got)
	}
}

func TestTimeoutCountsCancelDoesNot(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want State
	}{
		{"canceled", context.Canceled, Closed},
		{"deadline", context.DeadlineExceeded, Open},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := newTestBreaker(testConfig())
			rt := b.Wrap(transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
				return nil, tc.err
			}))
			for range 4 {
				req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1/models", nil)
				if _, err := rt.RoundTrip(req); !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
			}
			if got := b.StateOf("api.example"); got != tc.want {
				t.Fatalf("state %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCanceledProbeCountsAsFailure(t *testing.T) {
	b, clk := newTestBreaker(testConfig())
	fail := true
	rt := b.Wrap(transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if fail {
			return nil, errors.New("connection reset")
		}
		return nil, context.Canceled
	}))
	req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1/models", nil)
	for range 4 {
		_, _ = rt.RoundTrip(req)
	}
	if got := b.StateOf("api.example"); got != Open {
		t.Fatalf("state %v, want open", got)
	}
	clk.Advance(10 * time.Second)
	fail = false
	_, _ = rt.RoundTrip(req)
	if got := b.StateOf("api.example"); got != Open {
		t.Fatalf("state %v after a canceled probe, want open", got)
	}
}

// errRejectedBelow is what a layer below returns for a request it never sent,
// as the gate does when its queue sheds one.
var errRejectedBelow = fmt.Errorf("queue full: %w", transport.ErrRejected)

// TestRejectedNeverCounts checks that requests a layer below refused to
// send never open the circuit, whatever their number.
func TestRejectedNeverCounts(t *testing.T) {
	b, _ := newTestBreaker(testConfig())
	rt := b.Wrap(transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
		return nil, errRejectedBelow
	}))
	for range 20 {
		req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1/models", nil)
		if _, err := rt.RoundTrip(req); !errors.Is(err, transport.ErrRejected) {
			t.Fatalf("err = %v, want the rejection", err)
		}
	}
	if got := b.StateOf("api.example"); got != Closed {
		t.Fatalf("state %v after 20 rejected requests, want closed", got)
	}
}

// TestRejectedProbeGivesWay checks that a half-open probe that a layer
// below refused to send neither re-opens the circuit nor keeps its probe
// permit: the next request probes in its place.
func TestRejectedProbeGivesWay(t *testing.T) {
	cfg := testConfig()
	cfg.Probes = 1
	b, clk := newTestBreaker(cfg)
	var mode atomic.Int32 // 0: fail, 1: reject, 2: succeed
	rt := b.Wrap(transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		switch mode.Load() {
		case 0:
			return nil, errors.New("connection reset")
		case 1:
			return nil, errRejectedBelow
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	}))
	do := func() error {
		req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1/models", nil)
		resp, err := rt.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for range 4 {
		_ = do()
	}
	if got := b.StateOf("api.example"); got != Open {
		t.Fatalf("state %v, want open", got)
	}
	clk.Advance(cfg.Delay)
	mode.Store(1)
	for i := range 3 {
		if err := do(); !errors.Is(err, transport.ErrRejected) {
			t.Fatalf("probe %d: err = %v, want the rejection (a probe admitted)", i, err)
		}
		if got := b.StateOf("api.example"); got != HalfOpen {
			t.Fatalf("state %v after rejected probe %d, want half-open", got, i)
		}
	}
	mode.Store(2)
	if err := do(); err != nil {
		t.Fatalf("probe after the rejected ones: %v", err)
	}
	if got := b.StateOf("api.example"); got != Closed {
		t.Fatalf("state %v after a successful probe, want closed", got)
	}
}

func TestKeyedPerHost(t *testing.T) {
	b, _ := newTestBreaker(testConfig())
	bad, good := newStatusServer(t), newStatusServer(t)
	c := newClient(t, b)
	openCircuit(t, b, c, bad)
	mustStatus(t, c, good.url(200), 200)
	if got := b.StateOf(good.Listener.Addr().String()); got != Closed {
		t.Fatalf("other host: state %v, want closed", got)
	}
	if got := b.StateOf("never.seen"); got != Closed {
		t.Fatalf("unknown key: state %v, want closed", got)
	}
	if got := b.State(); got != Open {
		t.Fatalf("State() = %v, want open (worst of all keys)", got)
	}
}

func TestCustomKey(t *testing.T) {
	cfg := testConfig()
	cfg.Key = func(*http.Request) string { return "all" }
	b, _ := newTestBreaker(cfg)
	one, two := newStatusServer(t), newStatusServer(t)
	c := newClient(t, b)
	for range 2 {
		mustStatus(t, c, one.url(503), 503)
		mustStatus(t, c, two.url(503), 503)
	}
	if got := b.StateOf("all"); got != Open {
		t.Fatalf("state %v, want open", got)
	}
	mustOpenError(t, c, one.url(200))
}

// TestPanickingProbeSettles: a base transport that panics during a
// half-open probe counts as a failed probe (the circuit re-opens), so
// the circuit does not stay half-open forever with its permit taken.
func TestPanickingProbeSettles(t *testing.T) {
	cfg := testConfig()
	cfg.Probes = 1
	b, clk := newTestBreaker(cfg)
	var panics atomic.Bool
	rt := b.Wrap(transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		if panics.Load() {
			panic("base transport bug")
		}
		return nil, errors.New("connection reset")
	}))
	do := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1/models", nil)
		_, err = rt.RoundTrip(req)
		return err
	}
	for range 4 {
		_ = do()
	}
	clk.Advance(cfg.Delay)
	panics.Store(true)
	if err := do(); err == nil || !strings.HasPrefix(err.Error(), "panic:") {
		t.Fatalf("probe: %v, want the panic to go on", err)
	}
	if got := b.StateOf("api.example"); got != Open {
		t.Errorf("state %v after a panicking probe, want open", got)
	}
	clk.Advance(cfg.Delay)
	panics.Store(false)
	if err := do(); errors.Is(err, ErrOpen) {
		t.Errorf("after another delay: %v, want a probe admitted", err)
	}
}

// TestRejectedProbeOfAnEarlierPeriod: a probe admitted in one half-open
// period and refused below after the circuit re-opened and half-opened
// again gives nothing to the new period, which keeps its Probes permits.
func TestRejectedProbeOfAnEarlierPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig() // Probes: 2
		b, clk := newTestBreaker(cfg)
		release, hold := make(chan struct{}), make(chan struct{})
		var mode atomic.Int32 // 0: fail, 1: wait for release then reject, 2: wait for hold
		rt := b.Wrap(transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			switch mode.Load() {
			case 1:
				<-release
				return nil, errRejectedBelow
			case 2:
				<-hold
			}
			return nil, errors.New("connection reset")
		}))
		do := func() error {
			req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1/models", nil)
			_, err := rt.RoundTrip(req)
			return err
		}
		for range 4 {
			_ = do()
		}
		clk.Advance(cfg.Delay)
		mode.Store(1)
		a := make(chan error, 1)
		go func() { a <- do() }() // probe A of period 1, held below
		synctest.Wait()
		mode.Store(0)
		_ = do() // probe B fails: the circuit re-opens
		if got := b.StateOf("api.example"); got != Open {
			t.Fatalf("state %v after a failed probe, want open", got)
		}
		clk.Advance(cfg.Delay)
		mode.Store(2)
		held := make(chan error, 2)
		for range 2 { // the two probes of period 2
			go func() { held <- do() }()
		}
		synctest.Wait()
		close(release) // A is refused below, in period 2
		if err := <-a; !errors.Is(err, transport.ErrRejected) {
			t.Fatalf("probe A: %v", err)
		}
		mode.Store(0)
		if err := do(); !errors.Is(err, ErrOpen) {
			t.Errorf("a third probe in period 2: %v, want ErrOpen (A's permit belonged to period 1)", err)
		}
		close(hold)
		<-held
		<-held
	})
}
