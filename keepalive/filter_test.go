package keepalive_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/transport"
)

const chunkEvent = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"

// TestWaitsForFirstRealByte checks that RoundTrip returns only once real
// content arrives, and that the body then holds the events only.
func TestWaitsForFirstRealByte(t *testing.T) {
	sent := make(chan struct{})
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for range 50 {
			io.WriteString(w, ": keep-alive\n\n")
		}
		flush(w)
		close(sent)
		<-release
		io.WriteString(w, chunkEvent+"data: [DONE]\n\n")
	})
	var closes atomic.Int32
	rt := keepalive.New(keepalive.Config{}).Wrap(counted(srv.Client().Transport, &closes))
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("{}"))
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := rt.RoundTrip(req)
		done <- result{resp, err}
	}()
	<-sent
	select {
	case <-done:
		t.Fatal("RoundTrip returned before any real byte was sent")
	default:
	}
	close(release)
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	got, err := io.ReadAll(res.resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want := chunkEvent + "data: [DONE]\n\n"; string(got) != want {
		t.Fatalf("body = %q, want %q", got, want)
	}
	res.resp.Body.Close()
	res.resp.Body.Close()
	wantCloses(t, &closes, 1)
}

func TestJSONContentLengthAdjusted(t *testing.T) {
	const payload = `{"id":"chatcmpl-1","object":"chat.completion"}`
	const pad = "\n\n\n\n\n"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", fmt.Sprint(len(pad)+len(payload)))
		io.WriteString(w, pad)
		flush(w)
		io.WriteString(w, payload)
	})
	resp, err := keepalive.New(keepalive.Config{}).Wrap(srv.Client().Transport).RoundTrip(mustRequest(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != int64(len(payload)) || resp.Header.Get("Content-Length") != fmt.Sprint(len(payload)) {
		t.Fatalf("ContentLength = %d, header %q; want %d", resp.ContentLength, resp.Header.Get("Content-Length"), len(payload))
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || string(got) != payload {
		t.Fatalf("body = %q, %v", got, err)
	}
}

func TestSSEContentLengthRemoved(t *testing.T) {
	body := ": ka\n\n" + chunkEvent
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	})
	resp, err := keepalive.New(keepalive.Config{}).Wrap(srv.Client().Transport).RoundTrip(mustRequest(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 || resp.Header.Get("Content-Length") != "" {
		t.Fatalf("ContentLength = %d, header %q; want -1 and none", resp.ContentLength, resp.Header.Get("Content-Length"))
	}
	if got, _ := io.ReadAll(resp.Body); string(got) != chunkEvent {
		t.Fatalf("body = %q", got)
	}
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(`{"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// keepAliveThenAbort answers 200 with keep-alives, then drops the
// connection without ending the body.
func keepAliveThenAbort(contentType, keepAlive string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		for range 20 {
			io.WriteString(w, keepAlive)
			flush(w)
		}
		panic(http.ErrAbortHandler)
	}
}

func TestClosedWhileWaiting(t *testing.T) {
	for _, tt := range []struct{ name, contentType, keepAlive string }{
		{"sse", "text/event-stream", ": keep-alive\n\n"},
		{"json", "application/json", "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, keepAliveThenAbort(tt.contentType, tt.keepAlive))
			var closes atomic.Int32
			rt := keepalive.New(keepalive.Config{}).Wrap(counted(srv.Client().Transport, &closes))
			req, rec := transport.EnsureRecord(mustRequest(t, srv.URL))
			resp, err := rt.RoundTrip(req)
			if resp != nil {
				t.Fatal("a response together with an error")
			}
			for _, target := range []error{keepalive.ErrClosedWhileWaiting, transport.ErrNoResponse, io.ErrUnexpectedEOF} {
				if !errors.Is(err, target) {
					t.Errorf("error %v does not match %v", err, target)
				}
			}
			var we *keepalive.WaitError
			if !errors.As(err, &we) || we.KeepAliveBytes != int64(20*len(tt.keepAlive)) {
				t.Errorf("WaitError = %+v, want %d keep-alive bytes", we, 20*len(tt.keepAlive))
			}
			if o := transport.Classify(nil, err); o != transport.NetworkError {
				t.Errorf("Classify = %v, want network_error", o)
			}
			if rec.Facts().ScheduleWait <= 0 {
				t.Error("ScheduleWait not recorded for a failed wait")
			}
			wantCloses(t, &closes, 1)
		})
	}
}

func TestOnlyKeepAlivesThenEOF(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": keep-alive\n\n: keep-alive\n\n")
	})
	var closes atomic.Int32
	_, err := keepalive.New(keepalive.Config{}).Wrap(counted(srv.Client().Transport, &closes)).RoundTrip(mustRequest(t, srv.URL))
	if !errors.Is(err, keepalive.ErrClosedWhileWaiting) || !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want ErrClosedWhileWaiting with io.EOF", err)
	}
	wantCloses(t, &closes, 1)
}

func TestEmptyBodyIsNotAnError(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		flush(w) // chunked, with no bytes
	})
	var closes atomic.Int32
	resp, err := keepalive.New(keepalive.Config{}).Wrap(counted(srv.Client().Transport, &closes)).RoundTrip(mustRequest(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(resp.Body); len(got) != 0 || err != nil {
		t.Fatalf("body = %q, %v", got, err)
	}
	resp.Body.Close()
	wantCloses(t, &closes, 1)
}

// blockingServer answers with keep-alives until the request is abandoned,
// and reports when the first keep-alives are out.
func blockingServer(t *testing.T) (url string, sent <-chan struct{}) {
	ch := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": keep-alive\n\n")
		flush(w)
		close(ch)
		<-r.Context().Done()
	})
	return srv.URL, ch
}

func TestMaxWait(t *testing.T) {
	url, sent := blockingServer(t)
	f := keepalive.New(keepalive.Config{MaxWait: time.Hour})
	fire := make(chan func(), 1)
	keepalive.SetAfterFunc(f, func(d time.Duration, fn func()) func() bool {
		if d != time.Hour {
			t.Errorf("timer for %v, want MaxWait", d)
		}
		fire <- fn
		return func() bool { return false } // reports that it fired
	})
	var closes atomic.Int32
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	go func() {
		fn := <-fire
		<-sent
		fn()
	}()
	resp, err := f.Wrap(counted(base, &closes)).RoundTrip(mustRequest(t, url))
	if resp != nil {
		t.Fatal("a response together with an error")
	}
	for _, target := range []error{keepalive.ErrWaitTimeout, os.ErrDeadlineExceeded, transport.ErrNoResponse} {
		if !errors.Is(err, target) {
			t.Errorf("error %v does not match %v", err, target)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, keepalive.ErrClosedWhileWaiting) {
		t.Errorf("error %v matches the wrong sentinel", err)
	}
	if o := transport.Classify(nil, err); o != transport.Timeout {
		t.Errorf("Classify = %v, want timeout", o)
	}
	wantCloses(t, &closes, 1)
}

// TestMaxWaitRealTimer runs the real timer with a short MaxWait.
func TestMaxWaitRealTimer(t *testing.T) {
	url, _ := blockingServer(t)
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	_, err := keepalive.New(keepalive.Config{MaxWait: 20 * time.Millisecond}).Wrap(base).RoundTrip(mustRequest(t, url))
	if !errors.Is(err, keepalive.ErrWaitTimeout) {
		t.Fatalf("err = %v, want ErrWaitTimeout", err)
	}
}

func TestContextEndsWait(t *testing.T) {
	for _, tt := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
		out  transport.Outcome
	}{
		{"cancel", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, context.Canceled, transport.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded, transport.Timeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url, sent := blockingServer(t)
			ctx, cancel := tt.ctx()
			defer cancel()
			headers := make(chan struct{})
			go func() {
				<-sent
				<-headers
				if tt.want == context.Canceled {
					cancel()
				}
			}()
			var closes atomic.Int32
			base := http.DefaultTransport.(*http.Transport).Clone()
			defer base.CloseIdleConnections()
			var gotResponse atomic.Bool
			signal := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
				resp, err := counted(base, &closes).RoundTrip(req)
				gotResponse.Store(err == nil)
				close(headers)
				return resp, err
			})
			resp, err := keepalive.New(keepalive.Config{}).Wrap(signal).RoundTrip(mustRequest(t, url).WithContext(ctx))
			if resp != nil || !errors.Is(err, tt.want) {
				t.Fatalf("RoundTrip = %v, %v; want %v", resp, err, tt.want)
			}
			if errors.Is(err, transport.ErrNoResponse) {
				t.Error("a context error must not claim ErrNoResponse")
			}
			if o := transport.Classify(nil, err); o != tt.out {
				t.Errorf("Classify = %v, want %v", o, tt.out)
			}
			if gotResponse.Load() { // else the deadline passed before the headers
				wantCloses(t, &closes, 1)
			}
		})
	}
}

// TestNetHTTPBodyFollowsContext checks what the layer builds on: a read of
// a body from net/http's transport, over HTTP/1.1 or HTTP/2, ends when the
// request's context is canceled, and the layer knows such a body as one;
// then that the layer's wait over such a body, which it does not watch
// itself, ends on cancel too.
func TestNetHTTPBodyFollowsContext(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		t.Run(proto, func(t *testing.T) {
			sent := make(chan struct{}, 2)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, ": keep-alive\n\n")
				flush(w)
				sent <- struct{}{}
				<-r.Context().Done()
			}))
			var base http.RoundTripper
			if proto == "HTTP/2.0" {
				srv.EnableHTTP2 = true
				srv.StartTLS()
				base = srv.Client().Transport
			} else {
				srv.Start()
				base = http.DefaultTransport.(*http.Transport).Clone()
			}
			defer srv.Close()
			defer roundtrip.CloseIdleConnections(base)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			resp, err := base.RoundTrip(mustRequest(t, srv.URL).WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.Proto != proto {
				t.Fatalf("response over %s, want %s", resp.Proto, proto)
			}
			if !keepalive.FollowsContext(resp.Body) {
				t.Errorf("a %T from net/http is not known to follow its context", resp.Body)
			}
			<-sent
			go cancel()
			_, err = io.ReadAll(resp.Body)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("read after cancel: %v, want context.Canceled", err)
			}

			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-sent
				cancel()
			}()
			resp, err = keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(mustRequest(t, srv.URL).WithContext(ctx))
			if resp != nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("the layer's wait after cancel: %v, %v; want context.Canceled", resp, err)
			}
		})
	}
}

// stuckBody is a body that ignores contexts: Read blocks until Close.
type stuckBody struct {
	closed chan struct{}
	reads  chan struct{}
	closes atomic.Int32
}

func (b *stuckBody) Read(p []byte) (int, error) {
	select {
	case b.reads <- struct{}{}:
	default:
	}
	<-b.closed
	return 0, errors.New("read on closed body")
}

func (b *stuckBody) Close() error {
	if b.closes.Add(1) == 1 {
		close(b.closed)
	}
	return nil
}

// TestContextEndsWaitOnAnyBody checks that the wait ends on cancel even
// when the base transport's body does not watch the context.
func TestContextEndsWaitOnAnyBody(t *testing.T) {
	body := &stuckBody{closed: make(chan struct{}), reads: make(chan struct{}, 1)}
	base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		h := http.Header{"Content-Type": {"application/json"}}
		return &http.Response{StatusCode: 200, Header: h, Body: body, ContentLength: -1, Request: req}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-body.reads
		cancel()
	}()
	_, err := keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(mustRequest(t, "http://example.invalid/").WithContext(ctx))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := body.closes.Load(); n != 1 {
		t.Fatalf("body closed %d times, want 1", n)
	}
}

// TestScheduleWaitRecorded: the wait is added to the request's record when
// it carries one, and the body reports it either way. One comment or empty
// line alone before the answer is padding, not a wait.
func TestScheduleWaitRecorded(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       time.Duration
	}{
		{"keep-alives", ": keep-alive\n\n: keep-alive\n\n" + chunkEvent, 5 * time.Second},
		{"blank lines", "\n\n\n" + chunkEvent, 5 * time.Second},
		{"one comment", ": OPENROUTER PROCESSING\n\n" + chunkEvent, 0},
		{"one blank line", "\n" + chunkEvent, 0},
		{"none", chunkEvent, 0},
	} {
		for _, recorded := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/recorded=%v", tt.name, recorded), func(t *testing.T) {
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/event-stream")
					io.WriteString(w, tt.body)
				})
				f := keepalive.New(keepalive.Config{})
				t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
				calls := 0
				keepalive.SetClock(f, func() time.Time {
					calls++
					return t0.Add(time.Duration(calls-1) * 5 * time.Second)
				})
				req := mustRequest(t, srv.URL)
				var rec *transport.Record
				if recorded {
					req, rec = transport.EnsureRecord(req)
					rec.Update(func(f *transport.Facts) { f.ScheduleWait = time.Second }) // an earlier attempt's
				}
				resp, err := f.Wrap(srv.Client().Transport).RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if got := httpbody.ScheduleWaitOf(resp.Body); got != tt.want {
					t.Errorf("the body reports %v, want %v", got, tt.want)
				}
				if !recorded {
					if transport.RecordFrom(req.Context()) != nil {
						t.Error("the layer attached a record")
					}
					return
				}
				if got := rec.Facts().ScheduleWait; got != time.Second+tt.want {
					t.Fatalf("ScheduleWait = %v, want %v", got, time.Second+tt.want)
				}
			})
		}
	}
}

func TestPassesUntouched(t *testing.T) {
	const raw = "\n\n: keep-alive\n\n{}"
	for _, tt := range []struct {
		name        string
		method      string
		status      int
		contentType string
		encoding    string
	}{
		{"text/plain", "POST", 200, "text/plain", ""},
		{"no content type", "POST", 200, "", ""},
		{"bad media type", "POST", 200, "application/json/x;", ""},
		{"json lookalike", "POST", 200, "application/jsonl", ""},
		{"error status", "POST", 429, "application/json", ""},
		{"server error", "POST", 503, "text/event-stream", ""},
		{"gzip", "POST", 200, "application/json", "gzip"},
		{"head", "HEAD", 200, "application/json", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var inner io.ReadCloser
			if tt.method != "HEAD" {
				inner = io.NopCloser(strings.NewReader(raw))
			} else {
				inner = http.NoBody
			}
			base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
				h := http.Header{}
				if tt.contentType != "" {
					h.Set("Content-Type", tt.contentType)
				}
				if tt.encoding != "" {
					h.Set("Content-Encoding", tt.encoding)
				}
				return &http.Response{StatusCode: tt.status, Header: h, Body: inner, ContentLength: int64(len(raw)), Request: req}, nil
			})
			req, _ := http.NewRequest(tt.method, "http://example.invalid/", nil)
			resp, err := keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Body != inner || resp.ContentLength != int64(len(raw)) {
				t.Fatal("the response was changed")
			}
		})
	}
}

func TestMediaTypesFiltered(t *testing.T) {
	for _, ct := range []string{
		"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8",
		"application/problem+json", "text/event-stream", "text/event-stream; charset=utf-8", "TEXT/EVENT-STREAM",
	} {
		base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			h := http.Header{"Content-Type": {ct}}
			return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader("\n\n{}")), ContentLength: -1, Request: req}, nil
		})
		resp, err := keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(mustRequest(t, "http://example.invalid/"))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(resp.Body); string(got) != "{}" {
			t.Errorf("%q: body = %q, want filtered", ct, got)
		}
	}
}

func TestFirstBytesWithError(t *testing.T) {
	boom := errors.New("connection reset")
	for _, tc := range []struct {
		ct, body, want string
	}{
		{"application/json", "\n\n{\"id\":", `{"id":`},
		{"text/event-stream", ": ka\n\ndata: {}\n\ndata: par", "data: {}\n\ndata: par"},
	} {
		var closes atomic.Int32
		base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			h := http.Header{"Content-Type": {tc.ct}}
			body := io.NopCloser(io.MultiReader(strings.NewReader(tc.body), errReader{boom}))
			return &http.Response{StatusCode: 200, Header: h, Body: countingBody{body, &closes}, ContentLength: -1, Request: req}, nil
		})
		resp, err := keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(mustRequest(t, "http://example.invalid/"))
		if err != nil {
			t.Fatal(err) // real content arrived: the response is returned
		}
		got, err := io.ReadAll(resp.Body)
		if string(got) != tc.want || !errors.Is(err, boom) {
			t.Fatalf("%s: body = %q, %v", tc.ct, got, err)
		}
		if _, err := resp.Body.Read(make([]byte, 1)); !errors.Is(err, boom) {
			t.Fatalf("%s: error not sticky: %v", tc.ct, err)
		}
		resp.Body.Close()
		wantCloses(t, &closes, 1)
	}
}

// TestCutBeforeFirstEvent checks that a stream cut inside its first event
// fails the attempt as retryable: a parser would have read nothing of it.
func TestCutBeforeFirstEvent(t *testing.T) {
	boom := errors.New("connection reset")
	var closes atomic.Int32
	base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		h := http.Header{"Content-Type": {"text/event-stream"}}
		body := io.NopCloser(io.MultiReader(strings.NewReader(": ka\n\ndata: par"), errReader{boom}))
		return &http.Response{StatusCode: 200, Header: h, Body: countingBody{body, &closes}, ContentLength: -1, Request: req}, nil
	})
	resp, err := keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(mustRequest(t, "http://example.invalid/"))
	if resp != nil {
		t.Fatalf("got a response, want an error")
	}
	if !errors.Is(err, keepalive.ErrClosedWhileWaiting) || !errors.Is(err, boom) || !errors.Is(err, transport.ErrNoResponse) {
		t.Fatalf("err = %v, want ErrClosedWhileWaiting from the reset", err)
	}
	if got := transport.Classify(nil, err); got != transport.NetworkError {
		t.Fatalf("Classify = %v, want network_error", got)
	}
	wantCloses(t, &closes, 1)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

type zeroNilBody struct{ closes atomic.Int32 }

func (*zeroNilBody) Read([]byte) (int, error) { return 0, nil }
func (b *zeroNilBody) Close() error           { b.closes.Add(1); return nil }

func TestNoProgressEndsWait(t *testing.T) {
	body := &zeroNilBody{}
	base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		h := http.Header{"Content-Type": {"application/json"}}
		return &http.Response{StatusCode: 200, Header: h, Body: body, ContentLength: -1, Request: req}, nil
	})
	_, err := keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(mustRequest(t, "http://example.invalid/"))
	if !errors.Is(err, io.ErrNoProgress) || !errors.Is(err, keepalive.ErrClosedWhileWaiting) {
		t.Fatalf("err = %v", err)
	}
	if body.closes.Load() != 1 {
		t.Fatal("body not closed once")
	}
}

func TestRequestUnchangedAndErrorsPassed(t *testing.T) {
	boom := errors.New("dial failed")
	base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) { return nil, boom })
	req := mustRequest(t, "http://example.invalid/")
	before := *req
	_, err := keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(req)
	if err != boom {
		t.Fatalf("err = %v, want the base's error unchanged", err)
	}
	if req.Method != before.Method || req.URL != before.URL || req.Body != before.Body || req.Context() != before.Context() {
		t.Fatal("the caller's request was changed")
	}
}

type idleCounter struct {
	http.RoundTripper
	n int
}

func (c *idleCounter) CloseIdleConnections() { c.n++ }

func TestCloseIdleConnectionsForwarded(t *testing.T) {
	c := &idleCounter{}
	rt := keepalive.New(keepalive.Config{}).Wrap(c)
	rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
	if c.n != 1 {
		t.Fatal("CloseIdleConnections not forwarded")
	}
}

func TestWaitErrorMessage(t *testing.T) {
	err := &keepalive.WaitError{Err: keepalive.ErrClosedWhileWaiting, Cause: io.ErrUnexpectedEOF, Waited: 2 * time.Second, KeepAliveBytes: 140}
	want := "keepalive: connection closed while waiting for the response to start (after 2s and 140 keep-alive bytes): unexpected EOF"
	if err.Error() != want {
		t.Fatalf("message:\n%s\nwant\n%s", err, want)
	}
	if !strings.HasPrefix(keepalive.ErrWaitTimeout.Error(), "keepalive: ") {
		t.Fatal("sentinel message must be prefixed")
	}
}

func TestNilBaseIsDefaultTransport(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "\n{}")
	})
	defer http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	resp, err := keepalive.New(keepalive.Config{}).Wrap(nil).RoundTrip(mustRequest(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got, _ := io.ReadAll(resp.Body); string(got) != "{}" {
		t.Fatalf("body = %q", got)
	}
}

// TestLargeBodies checks that the bytes read during the wait and the rest
// of the body come out in order, for bodies far larger than one Read.
func TestLargeBodies(t *testing.T) {
	for _, tt := range []struct {
		contentType string
		raw, want   []byte
	}{
		{"text/event-stream", sseStream(), readAllSized(t, keepalive.NewSSEReader(strings.NewReader(string(sseStream()))), 4096)},
		{"application/json", jsonBody(), []byte(strings.TrimLeft(string(jsonBody()), "\n"))},
	} {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", tt.contentType)
			w.Write(tt.raw)
		})
		resp, err := keepalive.New(keepalive.Config{}).Wrap(srv.Client().Transport).RoundTrip(mustRequest(t, srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != string(tt.want) {
			t.Fatalf("%s: %d bytes, %v; want %d bytes", tt.contentType, len(got), err, len(tt.want))
		}
		if resp.ContentLength != -1 && resp.ContentLength != int64(len(tt.want)) {
			t.Fatalf("%s: ContentLength = %d, want %d", tt.contentType, resp.ContentLength, len(tt.want))
		}
	}
}

// TestReadAfterClose: once the caller closes a filtered body, Read fails
// with http.ErrBodyReadAfterClose, as net/http's bodies do, even though
// bytes read during the wait are still buffered.
func TestReadAfterClose(t *testing.T) {
	for _, ct := range []string{"application/json", "text/event-stream"} {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "\n")
			flush(w)
			_, _ = io.WriteString(w, `{"choices":[{"message":{"content":"a long enough answer"}}]}`)
		})
		resp, err := keepalive.New(keepalive.Config{}).Wrap(srv.Client().Transport).RoundTrip(mustRequest(t, srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		var one [1]byte
		if n, err := resp.Body.Read(one[:]); n != 1 || err != nil {
			t.Fatalf("%s: first read %d, %v", ct, n, err)
		}
		if err := resp.Body.Close(); err != nil {
			t.Fatal(err)
		}
		var rest [64]byte
		if n, err := resp.Body.Read(rest[:]); n != 0 || !errors.Is(err, http.ErrBodyReadAfterClose) {
			t.Errorf("%s: read after Close gave %d bytes (%q), %v; want 0, http.ErrBodyReadAfterClose", ct, n, rest[:n], err)
		}
	}
}

// TestJSONPaddingIsNoWait: a JSON answer with one empty line before it was
// not queued, whatever the time to its first byte; with repeated empty
// lines it was.
func TestJSONPaddingIsNoWait(t *testing.T) {
	for _, tt := range []struct {
		lead   string
		queued bool
	}{{"\n", false}, {" ", false}, {"\r\n", false}, {"\n\n", true}, {"\n\n\n\n", true}} {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, tt.lead)
			flush(w)
			io.WriteString(w, `{"ok":true}`)
		})
		f := keepalive.New(keepalive.Config{})
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		calls := 0
		keepalive.SetClock(f, func() time.Time {
			calls++
			return t0.Add(time.Duration(calls-1) * time.Second)
		})
		resp, err := f.Wrap(srv.Client().Transport).RoundTrip(mustRequest(t, srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != `{"ok":true}` {
			t.Errorf("%q: body %q", tt.lead, b)
		}
		if got := httpbody.ScheduleWaitOf(resp.Body) > 0; got != tt.queued {
			t.Errorf("%q before the answer: reported a wait %v, want %v", tt.lead, got, tt.queued)
		}
	}
}
