package quota

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// held is a base whose requests block until released, answering with no
// rate-limit headers, except the first, which announces resp.
type held struct {
	mu      sync.Mutex
	first   func() *http.Response
	later   func() *http.Response // nil: no rate-limit headers
	release chan struct{}
	calls   []transport.Priority
}

func newHeld(first func() *http.Response) *held {
	return &held{first: first, release: make(chan struct{})}
}

func (h *held) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	n := len(h.calls)
	h.calls = append(h.calls, transport.PriorityFrom(req.Context()))
	h.mu.Unlock()
	if req.Body != nil {
		req.Body.Close()
	}
	if n == 0 {
		return h.first(), nil
	}
	select {
	case <-h.release:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	if h.later != nil {
		return h.later(), nil
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}, nil
}

func (h *held) n() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.calls)
}

func (h *held) order() []transport.Priority {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]transport.Priority(nil), h.calls...)
}

// async sends req through rt in a goroutine; the result comes on the
// channel.
func async(t *testing.T, rt http.RoundTripper, req *http.Request) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := do(t, rt, req)
		ch <- err
	}()
	return ch
}

const key = "api.test m"

func TestReserveAndReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := New(Config{ResetMargin: -1})
		base := newHeld(func() *http.Response { return announce(3, 2, time.Second) })
		rt := q.Wrap(base)
		if _, err := do(t, rt, chat(t, "m", 10)); err != nil {
			t.Fatal(err)
		}
		st, ok := q.Stats().Key(key)
		if !ok || st.Requests.Limit != 3 || st.Requests.Remaining != 2 || !st.Requests.Known {
			t.Fatalf("after the first report: %+v %v", st, ok)
		}
		a, b := async(t, rt, chat(t, "m", 10)), async(t, rt, chat(t, "m", 10))
		synctest.Wait()
		c := async(t, rt, chat(t, "m", 10))
		synctest.Wait()
		if n := base.n(); n != 3 {
			t.Fatalf("base called %d times with the window spent, want 3", n)
		}
		if st, _ := q.Stats().Key(key); st.Waiting != 1 || st.Requests.Remaining != 0 {
			t.Fatalf("while one waits: %+v", st)
		}
		time.Sleep(time.Second) // the window resets
		synctest.Wait()
		if n := base.n(); n != 4 {
			t.Fatalf("base called %d times after the reset, want 4", n)
		}
		// The two sent before the reset are unanswered: they may yet count
		// against the new window.
		if st, _ := q.Stats().Key(key); st.Waiting != 0 || st.Outstanding != 3 || st.Requests.Remaining != 0 {
			t.Fatalf("after the reset: %+v, want 3 outstanding and none left", st)
		}
		close(base.release)
		for _, ch := range []<-chan error{a, b, c} {
			if err := <-ch; err != nil {
				t.Fatal(err)
			}
		}
		if st, _ := q.Stats().Key(key); st.Outstanding != 0 || st.Requests.Remaining != 3 {
			t.Fatalf("after the answers: %+v", st)
		}
	})
}

// exhausted returns a Quota and a transport over base whose key has
// already been told its request window is spent until reset.
func exhausted(t *testing.T, cfg Config, reset time.Duration) (*Quota, http.RoundTripper, *held) {
	t.Helper()
	if cfg.ResetMargin == 0 {
		cfg.ResetMargin = -1 // resets to the nanosecond, for the tests' clocks
	}
	q := New(cfg)
	base := newHeld(func() *http.Response { return announce(1, 0, reset) })
	rt := q.Wrap(base)
	if _, err := do(t, rt, chat(t, "m", 1)); err != nil {
		t.Fatal(err)
	}
	return q, rt, base
}

// countBody counts Closes.
type countBody struct {
	io.Reader
	mu     sync.Mutex
	closes int
}

func (b *countBody) Close() error {
	b.mu.Lock()
	b.closes++
	b.mu.Unlock()
	return nil
}

func TestCancelledWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, rt, base := exhausted(t, Config{}, 10*time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		req := chat(t, "m", 1).WithContext(ctx)
		body := &countBody{Reader: bytes.NewReader([]byte(`{"model":"m"}`))}
		req.Body = body
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(`{"model":"m"}`))), nil }
		ch := async(t, rt, req)
		synctest.Wait()
		if st, _ := q.Stats().Key(key); st.Waiting != 1 {
			t.Fatalf("waiting = %d, want 1", st.Waiting)
		}
		time.Sleep(time.Second)
		cancel()
		err := <-ch
		var we *WaitError
		if !errors.As(err, &we) || !errors.Is(err, ErrWaitCanceled) || !errors.Is(err, context.Canceled) || !errors.Is(err, transport.ErrRejected) {
			t.Fatalf("err = %v, want a canceled wait", err)
		}
		if we.Key != key || we.Waited != time.Second {
			t.Fatalf("WaitError = %+v", we)
		}
		if got := transport.Classify(nil, err); got != transport.Rejected {
			t.Fatalf("classified %v, want Rejected", got)
		}
		if base.n() != 1 || body.closes != 1 {
			t.Fatalf("base calls %d, body closes %d; want 1 and 1", base.n(), body.closes)
		}
		if st, _ := q.Stats().Key(key); st.Waiting != 0 {
			t.Fatalf("waiting after the cancel = %d", st.Waiting)
		}
	})
}

func TestQueueBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, rt, base := exhausted(t, Config{MaxQueue: 1}, 10*time.Second)
		first := async(t, rt, chat(t, "m", 1))
		synctest.Wait()
		_, err := do(t, rt, chat(t, "m", 1))
		if !errors.Is(err, ErrQueueFull) || !errors.Is(err, transport.ErrRejected) {
			t.Fatalf("second waiter: %v, want ErrQueueFull", err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		close(base.release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if n := base.n(); n != 2 {
			t.Fatalf("base called %d times, want 2", n)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		_, rt, _ := exhausted(t, Config{MaxQueue: -1}, 10*time.Second)
		if _, err := do(t, rt, chat(t, "m", 1)); !errors.Is(err, ErrQueueFull) {
			t.Fatalf("no queue: %v, want ErrQueueFull", err)
		}
	})
}

func TestQueueTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, rt, base := exhausted(t, Config{QueueTimeout: 3 * time.Second}, 10*time.Second)
		start := time.Now()
		_, err := do(t, rt, chat(t, "m", 1))
		var we *WaitError
		if !errors.Is(err, ErrQueueTimeout) || !errors.As(err, &we) || we.Waited != 3*time.Second {
			t.Fatalf("err = %v, want a queue timeout after 3s", err)
		}
		if time.Since(start) != 3*time.Second || base.n() != 1 {
			t.Fatalf("waited %v, base calls %d", time.Since(start), base.n())
		}
	})
}

func TestPriorityOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, rt, base := exhausted(t, Config{}, time.Second)
		base.later = func() *http.Response { return announce(1, 0, time.Second) }
		close(base.release)
		bg := transport.WithPriority(context.Background(), transport.Background)
		var chs []<-chan error
		for range 2 {
			chs = append(chs, async(t, rt, chat(t, "m", 1).WithContext(bg)))
			synctest.Wait()
		}
		chs = append(chs, async(t, rt, chat(t, "m", 1)))
		synctest.Wait()
		for i := range 3 {
			// Each reset refills the window of one.
			time.Sleep(time.Second)
			synctest.Wait()
			if n := base.n(); n != 2+i {
				t.Fatalf("after reset %d: base called %d times, want %d", i+1, n, 2+i)
			}
		}
		for _, ch := range chs {
			if err := <-ch; err != nil {
				t.Fatal(err)
			}
		}
		want := []transport.Priority{transport.Interactive, transport.Interactive, transport.Background, transport.Background}
		if got := base.order(); !equal(got, want) {
			t.Fatalf("order %v, want %v", got, want)
		}
	})
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNoWaitPastMaxWaitOrUnknownReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, rt, base := exhausted(t, Config{MaxWait: time.Second}, time.Hour)
		ch := async(t, rt, chat(t, "m", 1))
		synctest.Wait()
		if base.n() != 2 {
			t.Fatal("a request waited for a reset an hour away")
		}
		close(base.release)
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		q := New(Config{})
		base := newHeld(func() *http.Response {
			r := announce(1, 0, 0)
			r.Header.Del("x-ratelimit-reset-requests")
			return r
		})
		rt := q.Wrap(base)
		close(base.release)
		for range 3 {
			if _, err := do(t, rt, chat(t, "m", 1)); err != nil {
				t.Fatal(err)
			}
		}
		if base.n() != 3 {
			t.Fatal("a request waited for an unknown reset")
		}
	})
}

func TestWindowShrinksMidRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 10 per second, then 4 per second from the third second on.
		s := &fakeServer{period: time.Second, reqLimit: 10, latency: time.Millisecond}
		q := New(Config{})
		rt := q.Wrap(s)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		for i := range 8 {
			wg.Go(func() {
				for j := range 8 {
					if i == 0 && j == 3 {
						s.mu.Lock()
						s.reqLimit = 4
						s.mu.Unlock()
					}
					code, err := do(t, rt, chat(t, "m", 1))
					if err == nil && code != http.StatusOK {
						err = errors.New(strconv.Itoa(code))
					}
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if st, _ := q.Stats().Key(key); st.Requests.Limit != 4 {
			t.Fatalf("limit after the window shrank = %d, want 4", st.Requests.Limit)
		}
		// The requests in flight when the window shrank may meet a 429;
		// after the report of the new limit, none does.
		if l := s.limited.Load(); l > 8 {
			t.Fatalf("%d 429s, want at most the 8 in flight when the limit fell", l)
		}
	})
}

func TestNoHeadersAtAll(t *testing.T) {
	q := New(Config{})
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: http.NoBody}
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return resp, nil })
	rt := q.Wrap(base)
	req, rec := transport.EnsureRecord(chat(t, "m", 1))
	for range 2 * quotaQuietCheck() {
		if _, err := rt.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	if s := q.Stats(); len(s.Keys) != 0 {
		t.Fatalf("keys without headers: %+v", s.Keys)
	}
	if f := rec.Facts(); f.RateLimits.Reported() {
		t.Fatalf("record: %+v", f.RateLimits)
	}
	if n := testing.AllocsPerRun(200, func() { _, _ = rt.RoundTrip(req) }); n != 0 {
		t.Fatalf("%v allocations per request without headers, want 0", n)
	}
}

func quotaQuietCheck() int { return quietAfter }

func TestQuietHostStillNoticesHeaders(t *testing.T) {
	q := New(Config{})
	var draws int
	q.rnd = func() uint32 { draws++; return uint32(draws) }
	announcing := false
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
		if announcing {
			return announce(5, 4, time.Minute), nil
		}
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}, nil
	})
	rt := q.Wrap(base)
	for range quietAfter {
		_, _ = rt.RoundTrip(chat(t, "m", 1))
	}
	if draws != 0 {
		t.Fatalf("sampled %d times before the host was quiet", draws)
	}
	announcing = true
	for range quietSample - 1 {
		_, _ = rt.RoundTrip(chat(t, "m", 1))
		if len(q.Stats().Keys) != 0 {
			t.Fatal("a quiet host's headers were read before its sample came up")
		}
	}
	_, _ = rt.RoundTrip(chat(t, "m", 1))
	if _, ok := q.Stats().Key(key); !ok {
		t.Fatalf("headers not noticed after %d draws", draws)
	}
}

func TestRecordEveryResponse(t *testing.T) {
	q := New(Config{})
	n := 0
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
		n++
		if n == 2 {
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody}, nil
		}
		return announce(5, int64(5-n), time.Minute), nil
	})
	rt := q.Wrap(base)
	for i, want := range []int64{4, -1, 2} {
		req, rec := transport.EnsureRecord(chat(t, "m", 1))
		if _, err := do(t, rt, req); err != nil {
			t.Fatal(err)
		}
		rl := rec.Facts().RateLimits
		if want < 0 {
			if rl.Reported() {
				t.Fatalf("response %d announced nothing, record has %+v", i, rl)
			}
			continue
		}
		if rl.Requests.Remaining != want || rl.Requests.Limit != 5 {
			t.Fatalf("response %d: record has %+v, want remaining %d", i, rl.Requests, want)
		}
	}
	// A nil record is fine too.
	if _, err := do(t, rt, chat(t, "m", 1)); err != nil {
		t.Fatal(err)
	}
}

func TestKeysByModel(t *testing.T) {
	q := New(Config{})
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return announce(5, 4, time.Minute), nil })
	rt := q.Wrap(base)
	for _, m := range []string{"a", "b", ""} {
		if _, err := do(t, rt, chat(t, m, 1)); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for _, k := range q.Stats().Keys {
		keys = append(keys, k.Key)
	}
	// The first response came before the host was known to announce: its
	// key is found from the body after the fact.
	if want := []string{"api.test", "api.test a", "api.test b"}; !equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
}
