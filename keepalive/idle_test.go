package keepalive_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

// step is one part of a scripted response body: wait, then write.
type step struct {
	after time.Duration
	text  string
}

// scripted returns a base transport whose responses have content type ct
// and a body written by script, one step at a time, forever repeating the
// last step when repeat is set. Each body counts its closes in closes.
func scripted(ct string, closes *atomic.Int32, repeat bool, scripts ...[]step) http.RoundTripper {
	var calls atomic.Int32
	return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		script := scripts[min(int(calls.Add(1))-1, len(scripts)-1)]
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			for i := 0; i < len(script); i++ {
				s := script[i]
				select {
				case <-time.After(s.after):
				case <-done:
					return
				}
				if _, err := io.WriteString(pw, s.text); err != nil {
					return // the reader closed the body
				}
				if repeat && i == len(script)-1 {
					i--
				}
			}
			pw.Close()
		}()
		h := http.Header{"Content-Type": {ct}}
		return &http.Response{StatusCode: 200, Header: h, Body: countingBody{pipeBody{pr, done}, closes}, ContentLength: -1, Request: req}, nil
	})
}

// pipeBody is the reading end of a scripted body; Close stops its writer.
type pipeBody struct {
	*io.PipeReader
	done chan struct{}
}

func (b pipeBody) Close() error {
	close(b.done)
	return b.PipeReader.Close()
}

// TestIdleDeadlineEndsStalledStream checks that a stream whose events stop
// while its keep-alives go on ends with ErrStalled exactly IdleTimeout after
// the Read that waited began, with its connection closed once and the
// request's facts saying so.
func TestIdleDeadlineEndsStalledStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = 30 * time.Second
		var closes atomic.Int32
		base := scripted("text/event-stream", &closes, true,
			[]step{{0, ": keep-alive\n\n"}, {time.Second, "data: {\"n\":1}\n\n"}, {10 * time.Second, ": keep-alive\n\n"}})
		rt := keepalive.New(keepalive.Config{IdleTimeout: idle}).Wrap(base)
		req, rec := transport.EnsureRecord(mustRequest(t, "http://example.invalid/"))
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 64)
		n, err := resp.Body.Read(buf)
		if string(buf[:n]) != "data: {\"n\":1}\n\n" || err != nil {
			t.Fatalf("first Read = %q, %v", buf[:n], err)
		}
		start := time.Now()
		n, err = resp.Body.Read(buf)
		if waited := time.Since(start); waited != idle {
			t.Errorf("the stalled Read returned after %v, want %v", waited, idle)
		}
		if n != 0 || !errors.Is(err, keepalive.ErrStalled) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("stalled Read = %d, %v; want ErrStalled", n, err)
		}
		if errors.Is(err, transport.ErrNoResponse) {
			t.Errorf("a stall after content matches ErrNoResponse")
		}
		if got := transport.Classify(nil, err); got != transport.NetworkError {
			t.Errorf("Classify = %v, want network_error", got)
		}
		if _, err := resp.Body.Read(buf); !errors.Is(err, keepalive.ErrStalled) {
			t.Errorf("error not sticky: %v", err)
		}
		if !rec.Facts().Stalled {
			t.Errorf("Facts.Stalled not set")
		}
		wantCloses(t, &closes, 1)
		resp.Body.Close()
		wantCloses(t, &closes, 1)
	})
}

// TestIdleDeadlineSparesLiveAndSlow checks that a stream whose events come
// more often than the deadline, read by a caller that pauses far longer
// than the deadline between Reads, is read to its end.
func TestIdleDeadlineSparesLiveAndSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = 30 * time.Second
		var script []step
		var want strings.Builder
		for i := range 20 {
			ev := "data: " + strings.Repeat("x", i) + "\n\n"
			script = append(script, step{20 * time.Second, ": keep-alive\n\n"}, step{5 * time.Second, ev})
			want.WriteString(ev)
		}
		var closes atomic.Int32
		rt := keepalive.New(keepalive.Config{IdleTimeout: idle}).Wrap(scripted("text/event-stream", &closes, false, script))
		resp, err := rt.RoundTrip(mustRequest(t, "http://example.invalid/"))
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		buf := make([]byte, 8)
		for {
			n, err := resp.Body.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Read after %d bytes: %v", len(got), err)
			}
			if len(got)%3 == 0 {
				time.Sleep(3 * idle) // a slow caller, not a stalled server
			}
		}
		if string(got) != want.String() {
			t.Fatalf("body = %q, want %q", got, want.String())
		}
		resp.Body.Close()
		wantCloses(t, &closes, 1)
	})
}

// TestIdleDeadlineOff checks that a negative IdleTimeout waits as long as
// the server takes.
func TestIdleDeadlineOff(t *testing.T) {
	for _, tt := range []struct {
		mediaType string
		steps     []step
		want      string
	}{
		{"application/json", []step{{0, "\n{\"id\":"}, {time.Hour, "1}"}}, `{"id":1}`},
		// A stream's first event is read across two Reads an hour apart.
		{"text/event-stream", []step{{0, ": keep-alive\n\ndata: {\"a\""}, {time.Hour, ":1}\n\n"}}, "data: {\"a\":1}\n\n"},
	} {
		t.Run(tt.mediaType, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var closes atomic.Int32
				base := scripted(tt.mediaType, &closes, false, tt.steps)
				rt := keepalive.New(keepalive.Config{IdleTimeout: -1}).Wrap(base)
				resp, err := rt.RoundTrip(mustRequest(t, "http://example.invalid/"))
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(resp.Body)
				if string(got) != tt.want || err != nil {
					t.Fatalf("body = %q, %v; want %q", got, err, tt.want)
				}
				resp.Body.Close()
			})
		})
	}
}

// TestIdleDeadlineJSON checks the deadline on a non-streaming answer that
// stops after its first bytes.
func TestIdleDeadlineJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var closes atomic.Int32
		base := scripted("application/json", &closes, false,
			[]step{{0, "\n\n{\"id\":"}, {time.Hour, "1}"}})
		rt := keepalive.New(keepalive.Config{IdleTimeout: time.Minute}).Wrap(base)
		resp, err := rt.RoundTrip(mustRequest(t, "http://example.invalid/"))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		got, err := io.ReadAll(resp.Body)
		if string(got) != `{"id":` || !errors.Is(err, keepalive.ErrStalled) {
			t.Fatalf("body = %q, %v; want the first bytes and ErrStalled", got, err)
		}
		if waited := time.Since(start); waited != time.Minute {
			t.Errorf("stalled after %v, want 1m", waited)
		}
		resp.Body.Close()
		wantCloses(t, &closes, 1)
	})
}

// TestStallBeforeFirstEventIsRetried checks that a stream which stops
// inside its first event, before anything reached the caller, fails the
// attempt with an error the retry layer sends again.
func TestStallBeforeFirstEventIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = 30 * time.Second
		var closes atomic.Int32
		base := scripted("text/event-stream", &closes, false,
			[]step{{0, "data: {\"partial\":"}, {time.Hour, "1}\n\n"}},
			[]step{{time.Second, "data: {}\n\n"}})
		rt := transport.Chain(base,
			retry.New(retry.Config{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}).Wrap,
			keepalive.New(keepalive.Config{IdleTimeout: idle}).Wrap)
		req, rec := transport.EnsureRecord(mustRequest(t, "http://example.invalid/"))
		start := time.Now()
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != "data: {}\n\n" || err != nil {
			t.Fatalf("body = %q, %v", got, err)
		}
		if f := rec.Facts(); f.Attempts != 2 || !f.Stalled {
			t.Errorf("facts = %+v, want 2 attempts and Stalled", f)
		}
		if took := time.Since(start); took < idle || took > idle+2*time.Second {
			t.Errorf("call took %v, want the deadline and one short attempt", took)
		}
		wantCloses(t, &closes, 2)
	})
}

// TestStallBeforeFirstEventError checks the error itself.
func TestStallBeforeFirstEventError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var closes atomic.Int32
		base := scripted("text/event-stream", &closes, true,
			[]step{{0, "data: {\"n\":1}\n"}, {time.Second, ": keep-alive\n"}})
		_, err := keepalive.New(keepalive.Config{IdleTimeout: 5 * time.Second}).Wrap(base).RoundTrip(mustRequest(t, "http://example.invalid/"))
		var we *keepalive.WaitError
		if !errors.As(err, &we) || !errors.Is(err, keepalive.ErrStalled) || !errors.Is(err, transport.ErrNoResponse) {
			t.Fatalf("err = %v, want a WaitError matching ErrStalled and ErrNoResponse", err)
		}
		if we.Waited != 5*time.Second {
			t.Errorf("Waited = %v, want 5s", we.Waited)
		}
		wantCloses(t, &closes, 1)
	})
}

// eofBody returns its whole content with io.EOF in one Read, as net/http's
// bodies do for a short answer that arrived at once.
type eofBody struct {
	s    string
	done bool
}

func (b *eofBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	b.done = true
	return copy(p, b.s), io.EOF
}
func (*eofBody) Close() error { return nil }

// TestIdleDeadlineStopsAtEOF checks that a body that ended during the wait
// leaves no idle timer running, for a caller who reads it to the end and
// never closes it.
func TestIdleDeadlineStopsAtEOF(t *testing.T) {
	for _, tc := range []struct{ ct, body string }{
		{"text/event-stream", ": ka\n\ndata: {}\n\ndata: [DONE]\n\n"},
		{"application/json", "\n{}"},
	} {
		base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {tc.ct}}, Body: &eofBody{s: tc.body}, ContentLength: -1, Request: req}, nil
		})
		resp, err := keepalive.New(keepalive.Config{IdleTimeout: time.Hour}).Wrap(base).RoundTrip(mustRequest(t, "http://example.invalid/"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err != nil {
			t.Fatal(err)
		}
		if !keepalive.IdleStopped(resp.Body) {
			t.Errorf("%s: the idle timer still runs after EOF", tc.ct)
		}
	}
}

// TestMaxWaitCoversFirstEvent checks that MaxWait bounds a stream whose
// first event never ends, with the idle deadline off.
func TestMaxWaitCoversFirstEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var closes atomic.Int32
		base := scripted("text/event-stream", &closes, true,
			[]step{{0, "data: {\"n\":1}\n"}, {time.Second, ": keep-alive\n"}})
		_, err := keepalive.New(keepalive.Config{MaxWait: 5 * time.Second, IdleTimeout: -1}).Wrap(base).RoundTrip(mustRequest(t, "http://example.invalid/"))
		var we *keepalive.WaitError
		if !errors.As(err, &we) || !errors.Is(err, keepalive.ErrWaitTimeout) || we.Waited != 5*time.Second {
			t.Fatalf("err = %v, want ErrWaitTimeout after 5s", err)
		}
		wantCloses(t, &closes, 1)
	})
}

// TestIdleDeadlineSharedByBodies checks the one timer a filter keeps for
// all its bodies: two streams that stall at different times each end
// exactly IdleTimeout after their own Read began, while a live one beside
// them is read to the end; the list of watched bodies empties; and a body
// that comes after the timer has found the list empty and stopped gets its
// deadline all the same.
func TestIdleDeadlineSharedByBodies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = 30 * time.Second
		var closes atomic.Int32
		stalling := []step{{0, "data: {}\n\n"}, {10 * time.Second, ": keep-alive\n\n"}}
		live := []step{{0, "data: {}\n\n"}, {5 * time.Second, "data: {}\n\n"}}
		base := scripted("text/event-stream", &closes, true, stalling, live, stalling, stalling)
		f := keepalive.New(keepalive.Config{IdleTimeout: idle})
		rt := f.Wrap(base)

		// stall opens a stream, reads its first event and reports how long
		// the next Read took to fail with ErrStalled.
		stall := func(name string) {
			resp, err := rt.RoundTrip(mustRequest(t, "http://example.invalid/"))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			defer resp.Body.Close()
			buf := make([]byte, 64)
			if _, err := resp.Body.Read(buf); err != nil {
				t.Errorf("%s: first Read: %v", name, err)
				return
			}
			start := time.Now()
			_, err = resp.Body.Read(buf)
			if waited := time.Since(start); waited != idle || !errors.Is(err, keepalive.ErrStalled) {
				t.Errorf("%s: Read = %v after %v, want ErrStalled after %v", name, err, waited, idle)
			}
		}
		var done sync.WaitGroup
		done.Go(func() { stall("first") })
		synctest.Wait()
		done.Go(func() {
			resp, err := rt.RoundTrip(mustRequest(t, "http://example.invalid/"))
			if err != nil {
				t.Errorf("live: %v", err)
				return
			}
			defer resp.Body.Close()
			buf := make([]byte, 64)
			for i := range 40 { // 200s of events, one every 5s
				if _, err := resp.Body.Read(buf); err != nil {
					t.Errorf("live: Read %d: %v", i, err)
					return
				}
			}
		})
		time.Sleep(12 * time.Second)
		done.Go(func() { stall("second") })
		done.Wait()
		if n := keepalive.Watched(f); n != 0 {
			t.Errorf("%d bodies still watched after all were closed", n)
		}
		wantCloses(t, &closes, 3)

		time.Sleep(time.Hour) // the timer fires on an empty list and stops
		stall("after the timer stopped")
		wantCloses(t, &closes, 4)
	})
}

// TestContextEndsLookahead checks that a context canceled while a started
// stream's first event is still being read ends the wait with the
// context's error, closes the body once, and leaves nothing watched.
func TestContextEndsLookahead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var closes atomic.Int32
		base := scripted("text/event-stream", &closes, false,
			[]step{{0, "data: {\"a\""}, {time.Hour, ":1}\n\n"}})
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			time.Sleep(time.Minute)
			cancel()
		}()
		rt := keepalive.New(keepalive.Config{IdleTimeout: 30 * time.Minute}).Wrap(base)
		resp, err := rt.RoundTrip(mustRequest(t, "http://example.invalid/").WithContext(ctx))
		if resp != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("RoundTrip = %v, %v; want context.Canceled", resp, err)
		}
		wantCloses(t, &closes, 1)
		// Had the body stayed watched, its deadline would close it again.
		time.Sleep(time.Hour)
		wantCloses(t, &closes, 1)
	})
}
