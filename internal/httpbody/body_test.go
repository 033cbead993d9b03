package httpbody_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"testing/synctest"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
)

// trackedBody is a response body that counts its Close calls.
type trackedBody struct {
	io.Reader
	closes atomic.Int32
}

func (b *trackedBody) Close() error { b.closes.Add(1); return nil }

type hookCalls struct {
	mu   sync.Mutex
	errs []error
}

func (h *hookCalls) done(err error) {
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
}

func (h *hookCalls) only(t *testing.T) error {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) != 1 {
		t.Fatalf("hook fired %d times, want exactly once", len(h.errs))
	}
	return h.errs[0]
}

func TestOnBodyDoneEOF(t *testing.T) {
	var h hookCalls
	inner := &trackedBody{Reader: strings.NewReader("hello")}
	body := httpbody.OnDone(inner, h.done)
	got, err := io.ReadAll(body)
	if err != nil || string(got) != "hello" {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
	if err := h.only(t); err != nil {
		t.Fatalf("hook error = %v, want nil on EOF", err)
	}
	body.Close()
	if err := h.only(t); err != nil { // EOF then Close: still once, still nil
		t.Fatalf("hook error after Close = %v", err)
	}
	if n := inner.closes.Load(); n != 1 {
		t.Fatalf("inner closed %d times, want 1", n)
	}
}

func TestOnBodyDoneDataAndEOFTogether(t *testing.T) {
	var h hookCalls
	body := httpbody.OnDone(io.NopCloser(iotest.DataErrReader(strings.NewReader("abc"))), h.done)
	buf := make([]byte, 10)
	n, err := body.Read(buf)
	if n != 3 || err != io.EOF {
		t.Fatalf("Read = %d, %v; want 3, EOF", n, err)
	}
	if err := h.only(t); err != nil {
		t.Fatalf("hook error = %v", err)
	}
}

func TestOnBodyDoneClose(t *testing.T) {
	var h hookCalls
	inner := &trackedBody{Reader: strings.NewReader("hello world")}
	body := httpbody.OnDone(inner, h.done)
	if _, err := body.Read(make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	body.Close()
	err := h.only(t)
	if !errors.Is(err, httpbody.ErrClosed) {
		t.Fatalf("hook error = %v, want ErrClosed", err)
	}
	if httpbody.Failed(err) {
		t.Fatal("an early Close must not count as a failed body")
	}
	body.Close()
	h.only(t)
}

func TestOnBodyDoneReadError(t *testing.T) {
	var h hookCalls
	boom := errors.New("connection reset mid-body")
	inner := &trackedBody{Reader: io.MultiReader(strings.NewReader("par"), iotest.ErrReader(boom))}
	body := httpbody.OnDone(inner, h.done)
	if _, err := io.ReadAll(body); !errors.Is(err, boom) {
		t.Fatalf("ReadAll error = %v, want %v", err, boom)
	}
	body.Close()
	err := h.only(t)
	if !errors.Is(err, boom) || !httpbody.Failed(err) {
		t.Fatalf("hook error = %v, want the read error", err)
	}
}

func TestOnBodyDoneNilAndNoBody(t *testing.T) {
	for _, in := range []io.ReadCloser{nil, http.NoBody} {
		var h hookCalls
		out := httpbody.OnDone(in, h.done)
		if out != http.NoBody {
			t.Fatalf("OnDone(%v) = %v, want http.NoBody", in, out)
		}
		if err := h.only(t); err != nil {
			t.Fatalf("hook error = %v", err)
		}
	}
}

func TestOnBodyDoneConcurrentReadClose(t *testing.T) {
	for i := 0; i < 200; i++ {
		var fired atomic.Int32
		pr, pw := io.Pipe()
		body := httpbody.OnDone(pr, func(error) { fired.Add(1) })
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, _ = io.Copy(io.Discard, body) }()
		go func() { defer wg.Done(); _, _ = pw.Write([]byte("x")); body.Close() }()
		wg.Wait()
		pw.Close()
		if n := fired.Load(); n != 1 {
			t.Fatalf("hook fired %d times, want 1", n)
		}
	}
}

type readWriteBody struct {
	written bytes.Buffer
}

func (*readWriteBody) Read([]byte) (int, error) { return 0, io.EOF }
func (*readWriteBody) Close() error             { return nil }
func (b *readWriteBody) Write(p []byte) (int, error) {
	return b.written.Write(p)
}

func TestOnBodyDoneKeepsWriter(t *testing.T) {
	inner := &readWriteBody{}
	body := httpbody.OnDone(inner, func(error) {})
	w, ok := body.(io.Writer)
	if !ok {
		t.Fatal("wrapper of a writable body (101 response) must implement io.Writer")
	}
	w.Write([]byte("ping"))
	if inner.written.String() != "ping" {
		t.Fatalf("written %q", inner.written.String())
	}
	if _, ok := httpbody.OnDone(io.NopCloser(strings.NewReader("")), func(error) {}).(io.Writer); ok {
		t.Fatal("wrapper of a read-only body must not claim io.Writer")
	}
}

func TestOnBodyDoneReadAllocs(t *testing.T) {
	body := httpbody.OnDone(io.NopCloser(zeroReader{}), func(error) {})
	buf := make([]byte, 512)
	allocs := testing.AllocsPerRun(1000, func() { _, _ = body.Read(buf) })
	if allocs != 0 {
		t.Fatalf("allocations per Read = %v, want 0", allocs)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { return len(p), nil }

func TestDrainAndClose(t *testing.T) {
	short := &trackedBody{Reader: strings.NewReader("short body")}
	httpbody.DrainAndClose(short)
	if short.closes.Load() != 1 {
		t.Fatal("short body not closed")
	}
	if n, _ := short.Reader.Read(make([]byte, 1)); n != 0 {
		t.Fatal("short body not drained")
	}

	// A long body is read only up to the limit, then closed.
	long := &trackedBody{Reader: io.LimitReader(zeroReader{}, 10*httpbody.DrainLimit)}
	httpbody.DrainAndClose(long)
	if long.closes.Load() != 1 {
		t.Fatal("long body not closed")
	}
	rest, _ := io.Copy(io.Discard, long.Reader)
	if rest != 9*httpbody.DrainLimit {
		t.Fatalf("drained %d bytes, want exactly DrainLimit", 10*httpbody.DrainLimit-rest)
	}

	httpbody.DrainAndClose(nil)
	httpbody.DiscardResponse(nil)
	resp := &http.Response{Body: &trackedBody{Reader: strings.NewReader("x")}}
	httpbody.DiscardResponse(resp)
	if resp.Body.(*trackedBody).closes.Load() != 1 {
		t.Fatal("DiscardResponse did not close")
	}
}

func BenchmarkOnBodyDoneRead(b *testing.B) {
	buf := make([]byte, 4096)
	b.Run("bare", func(b *testing.B) {
		body := io.NopCloser(zeroReader{})
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			_, _ = body.Read(buf)
		}
	})
	b.Run("hooked", func(b *testing.B) {
		body := httpbody.OnDone(io.NopCloser(zeroReader{}), func(error) {})
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			_, _ = body.Read(buf)
		}
	})
}

// bodySink makes the bodies under an allocation count escape, as a
// response body does.
var bodySink io.ReadCloser

// attemptState stands for a layer's per-attempt state, held by value.
type attemptState struct {
	id    int64
	seen  *atomic.Int64 // the id done saw
	calls *hookCalls
}

func (s attemptState) done(err error) {
	s.seen.Store(s.id)
	s.calls.done(err)
}

func TestOnBodyDoneWithPassesState(t *testing.T) {
	calls, seen := new(hookCalls), new(atomic.Int64)
	inner := &trackedBody{Reader: strings.NewReader("abc")}
	body := httpbody.OnDoneWith(inner, attemptState{id: 7, seen: seen, calls: calls}, attemptState.done)
	if _, err := io.ReadAll(body); err != nil {
		t.Fatal(err)
	}
	_ = body.Close()
	if err := calls.only(t); err != nil || seen.Load() != 7 {
		t.Fatalf("done got state %d and %v, want 7 and nil", seen.Load(), err)
	}
	if n := inner.closes.Load(); n != 1 {
		t.Fatalf("inner body closed %d times, want 1", n)
	}
}

func TestOnBodyDoneWithNoBody(t *testing.T) {
	calls := new(hookCalls)
	if got := httpbody.OnDoneWith(http.NoBody, attemptState{id: 1, seen: new(atomic.Int64), calls: calls}, attemptState.done); got != http.NoBody {
		t.Fatalf("got %T, want http.NoBody", got)
	}
	calls.only(t)
}

func TestOnBodyDoneWithOneAllocation(t *testing.T) {
	inner := io.NopCloser(zeroReader{})
	state := attemptState{id: 1, seen: new(atomic.Int64), calls: new(hookCalls)}
	allocs := testing.AllocsPerRun(1000, func() {
		bodySink = httpbody.OnDoneWith(inner, state, attemptState.done)
	})
	if allocs != 1 {
		t.Fatalf("allocations = %v, want 1: the wrapper holding the state", allocs)
	}
}

// waitedBody is a body that reports a schedule wait, as keepalive's do.
type waitedBody struct {
	io.ReadCloser
	waited time.Duration
}

func (b waitedBody) ScheduleWait() time.Duration { return b.waited }

func TestScheduleWaitPassesThroughHooks(t *testing.T) {
	inner := waitedBody{ReadCloser: io.NopCloser(strings.NewReader("x")), waited: 3 * time.Second}
	body := httpbody.OnDone(httpbody.OnDone(inner, func(error) {}), func(error) {})
	if got := httpbody.ScheduleWaitOf(body); got != 3*time.Second {
		t.Errorf("ScheduleWaitOf through two hooks = %v, want 3s", got)
	}
	w := &readWriteBody{}
	if got := httpbody.ScheduleWaitOf(httpbody.OnDone(w, func(error) {})); got != 0 {
		t.Errorf("ScheduleWaitOf a hooked body that reports nothing = %v, want 0", got)
	}
	if got := httpbody.ScheduleWaitOf(io.NopCloser(strings.NewReader(""))); got != 0 {
		t.Errorf("ScheduleWaitOf a plain body = %v, want 0", got)
	}
}

// A discarded body that stalls is closed after DrainTimeout, not waited for.
func TestDrainAndCloseStalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		start := time.Now()
		httpbody.DrainAndClose(pr)
		if waited := time.Since(start); waited != httpbody.DrainTimeout {
			t.Fatalf("drain waited %v, want %v", waited, httpbody.DrainTimeout)
		}
		if _, err := pw.Write([]byte("x")); err == nil {
			t.Fatal("stalled body not closed")
		}
	})
}
