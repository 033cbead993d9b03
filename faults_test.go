package pacer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/internal/loadgen"
	"github.com/pacerhttp/pacer/internal/testwait"
	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/llmtest"
)

// cancelAt says when a fault row cancels the request's context.
type cancelAt int

const (
	noCancel    cancelAt = iota
	whileQueued          // while the request waits in the gate's queue
	inBackoff            // while the retry layer sleeps between attempts
	midStream            // after the answer started (stream), or while the server holds it (JSON)
)

// faultRow is one fault, the outcome the full default stack must give, and
// what must hold afterwards.
type faultRow struct {
	fault string // what goes wrong
	want  string // the documented outcome
	mode  string // "json" or "stream": the only mode the row runs in; empty: both

	server func(cfg *llmtest.Config, stream bool) // changes to the row's fake API
	// front, if set, sees each request first, with its ordinal from 1, and
	// answers it itself when it returns true; the fake API answers the rest.
	front   func(n int64, stream bool, w http.ResponseWriter, r *http.Request) bool
	stack   func(cfg *pacer.Config) // changes to the default stack, if any
	script  []llmtest.Behavior      // what the next requests get
	timeout time.Duration           // a deadline on the request's context
	cancel  cancelAt
	mangle  func(*http.Request) // makes the request one net/http refuses, if set

	status   int    // the status of the response RoundTrip returns; 0: an error
	err      error  // the error RoundTrip returns must match it (errors.Is)
	errText  string // when err is nil: the error RoundTrip returns must contain it
	attempts int64  // attempts that reached the base transport
	bodyErr  error  // reading the returned body must fail with it; nil: a complete answer
	badBody  bool   // the body ends cleanly but is not a complete answer
}

// queuedLimit is the gate's limit in the row that cancels a queued request.
const queuedLimit = 4

var faultRows = []faultRow{
	{
		fault: "429 storm: three 429s, then service", want: "200 after 4 attempts (Retry-After honoured)",
		script: []llmtest.Behavior{llmtest.RateLimit, llmtest.RateLimit, llmtest.RateLimit},
		status: 200, attempts: 4,
	},
	{
		fault: "429 storm longer than MaxAttempts", want: "the last real 429, body intact, after 4 attempts",
		script: []llmtest.Behavior{llmtest.RateLimit, llmtest.RateLimit, llmtest.RateLimit, llmtest.RateLimit, llmtest.RateLimit},
		status: 429, attempts: 4,
	},
	{
		fault: "503 window: two 503s, then service", want: "200 after 3 attempts",
		script: []llmtest.Behavior{llmtest.Overload, llmtest.Overload},
		status: 200, attempts: 3,
	},
	{
		fault: "402 payment required", want: "the 402 after exactly 1 attempt, never retried",
		script: []llmtest.Behavior{llmtest.PaymentRequired},
		status: 402, attempts: 1,
	},
	{
		fault: "connection reset before headers", want: "200 after 2 attempts",
		script: []llmtest.Behavior{llmtest.ResetBeforeHeaders},
		status: 200, attempts: 2,
	},
	{
		fault: "connection cut mid-body", want: "200 returned, then reading the body fails with io.ErrUnexpectedEOF; not retried",
		script: []llmtest.Behavior{llmtest.CutMidBody},
		status: 200, attempts: 1, bodyErr: io.ErrUnexpectedEOF,
	},
	{
		fault: "connection closed while waiting to be scheduled", want: "200 after 2 attempts (keepalive.ErrClosedWhileWaiting retried)",
		server: func(cfg *llmtest.Config, _ bool) {
			cfg.Wait = llmtest.Wait{Duration: 30 * time.Millisecond, Interval: 2 * time.Millisecond}
		},
		script: []llmtest.Behavior{llmtest.WaitThenClose},
		status: 200, attempts: 2,
	},
	{
		fault: "keep-alives while waiting, then the answer", want: "200 after 1 attempt, keep-alives hidden",
		server: func(cfg *llmtest.Config, _ bool) {
			cfg.Wait = llmtest.Wait{Duration: 30 * time.Millisecond, Interval: time.Millisecond}
		},
		script: []llmtest.Behavior{llmtest.WaitThenAnswer},
		status: 200, attempts: 1,
	},
	{
		fault: "slow headers past the request's deadline", want: "context.DeadlineExceeded after 1 attempt; a timeout is not retried",
		server:  func(cfg *llmtest.Config, _ bool) { cfg.Faults.SlowHeadersDelay = 500 * time.Millisecond },
		script:  []llmtest.Behavior{llmtest.SlowHeaders},
		timeout: 50 * time.Millisecond,
		err:     context.DeadlineExceeded, attempts: 1,
	},
	{
		fault: "a body shorter than its ContentLength", want: "net/http's error after 1 attempt: a local error is never retried",
		mangle:  func(r *http.Request) { r.ContentLength += 10 },
		errText: "ContentLength", attempts: 1,
	},
	{
		fault: "an ftp URL, which net/http refuses", want: "net/http's error after 1 attempt: a local error is never retried",
		mangle:  func(r *http.Request) { r.URL.Scheme = "ftp" },
		errText: "unsupported protocol scheme", attempts: 1,
	},
	{
		fault: "truncated JSON with a clean end of body", want: "200 delivered as sent; the caller's decoder reports the truncation",
		script: []llmtest.Behavior{llmtest.TruncatedJSON},
		status: 200, attempts: 1, badBody: true,
	},
	{
		fault: "context cancelled while queued in the gate", want: "context.Canceled; the request never reached the server",
		// A fixed limit, so that the next request surely queues: the
		// adaptive gate would probe past its limit while saturated.
		stack:  func(cfg *pacer.Config) { cfg.Gate.Limit = queuedLimit },
		cancel: whileQueued,
		err:    context.Canceled, attempts: queuedLimit,
	},
	{
		fault: "context cancelled in backoff", want: "context.Canceled at once, after 1 attempt",
		server: func(cfg *llmtest.Config, _ bool) {
			cfg.RetryAfter, cfg.RetryAfterDelay = llmtest.RetryAfterSeconds, 30*time.Second
		},
		script: []llmtest.Behavior{llmtest.RateLimit},
		cancel: inBackoff,
		err:    context.Canceled, attempts: 1,
	},
	{
		fault: "context cancelled mid-stream", want: "stream: reading fails with context.Canceled; JSON: context.Canceled while the server holds the answer",
		server: func(cfg *llmtest.Config, stream bool) {
			if stream {
				cfg.ServiceTime, cfg.StreamChunks = 2*time.Second, 8
			} else {
				cfg.Wait = llmtest.Wait{Share: 1, Duration: 5 * time.Second, Interval: 5 * time.Millisecond}
			}
		},
		cancel: midStream,
		err:    context.Canceled, attempts: 1,
	},
	{
		fault: "429 whose body stalls", want: "200 after 2 attempts: the discarded body's drain is bounded in time",
		front:  stalled429,
		status: 200, attempts: 2,
	},
	{
		fault: "one byte of padding before the answer", want: "200 after 1 attempt, the padding hidden",
		front:  leadingPadding,
		status: 200, attempts: 1,
	},
	{
		fault: "answer stalls after its start, keep-alives going on", want: "200 returned, then reading the body fails with keepalive.ErrStalled after IdleTimeout; not retried",
		server: func(cfg *llmtest.Config, _ bool) { cfg.Faults.StallAfter = 1 },
		stack:  func(cfg *pacer.Config) { cfg.KeepAlive.IdleTimeout = 100 * time.Millisecond },
		script: []llmtest.Behavior{llmtest.StallMidBody},
		status: 200, attempts: 1, bodyErr: keepalive.ErrStalled,
	},
	{
		fault: "rate-limit error event inside a 200 stream", want: "200 after 2 attempts: the event is the 429 it names, retried",
		mode:   "stream",
		script: []llmtest.Behavior{llmtest.ErrorInStream},
		status: 200, attempts: 2,
	},
	{
		fault: "rate-limit error JSON inside a 200", want: "200 delivered as sent after 1 attempt; the SDK reports the error body",
		mode:   "json",
		script: []llmtest.Behavior{llmtest.ErrorInStream},
		status: 200, attempts: 1, badBody: true,
	},
}

// TestFaultMatrix sends one request through the full default stack
// (pacer.Config{} with a counting base; one row fixes the gate's limit) for
// every fault, streaming and not,
// and checks the outcome; then that no goroutine is left, the gate holds no
// permit and queues nothing, and every response body the base handed out was
// closed.
func TestFaultMatrix(t *testing.T) {
	for _, row := range faultRows {
		for _, stream := range []bool{false, true} {
			mode := "json"
			if stream {
				mode = "stream"
			}
			if row.mode != "" && row.mode != mode {
				continue
			}
			t.Run(row.fault+"/"+mode, func(t *testing.T) {
				runFault(t, row, stream)
			})
		}
	}
}

func runFault(t *testing.T, row faultRow, stream bool) {
	t.Logf("want: %s", row.want)
	cfg := llmtest.Config{
		ServiceTime:     5 * time.Millisecond,
		RetryAfter:      llmtest.RetryAfterMillis,
		RetryAfterDelay: time.Millisecond,
		Seed:            1,
	}
	if row.server != nil {
		row.server(&cfg, stream)
	}
	srv := newFaultServer(cfg, stream, row.front)
	counter := &loadgen.Counter{Base: http.DefaultTransport.(*http.Transport).Clone()}
	pcfg := pacer.Config{Base: counter}
	if row.stack != nil {
		row.stack(&pcfg)
	}
	st := pacer.New(pcfg)
	client := st.Client()
	defer func() {
		st.CloseIdleConnections()
		srv.Close()
		_ = st.Close()
		checkAfter(t, st, counter)
		goleak.VerifyNone(t)
	}()
	srv.Script(row.script...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if row.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, row.timeout)
		defer cancel()
	}

	var held []*http.Response
	switch row.cancel {
	case whileQueued:
		// Fill the gate: its limit of responses, bodies unread.
		for range queuedLimit {
			resp, err := chat(context.Background(), client, srv.URL(), stream)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, resp)
		}
		go func() {
			if !testwait.Until(func() bool { _, _, q := gateCounts(st); return q == 1 }) {
				t.Error("the request never queued in the gate")
			}
			cancel()
		}()
	case inBackoff:
		go func() {
			if !testwait.Until(func() bool { return srv.Stats().RateLimited == 1 && counter.Stats().Closed == 1 }) {
				t.Error("the 429 was never answered and discarded")
			}
			cancel()
		}()
	case midStream:
		if !stream {
			go func() {
				if !testwait.Until(func() bool { return srv.Stats().InFlight == 1 }) {
					t.Error("the request never reached the server")
				}
				time.Sleep(20 * time.Millisecond) // let a few keep-alives through
				cancel()
			}()
		}
	}

	resp, err := chatWith(ctx, client, srv.URL(), stream, row.mangle)
	for _, h := range held {
		if err := readAnswer(h, stream); err != nil {
			t.Errorf("held response: %v", err)
		}
		h.Body.Close()
	}
	if attempts := counter.Stats().Attempts; attempts != row.attempts {
		t.Errorf("attempts at the base: %d, want %d", attempts, row.attempts)
	}
	if row.status == 0 && (row.cancel != midStream || !stream) {
		if err == nil {
			resp.Body.Close()
			t.Fatalf("got %d, want an error matching %v", resp.StatusCode, row.err)
		}
		if row.err == nil {
			if !strings.Contains(err.Error(), row.errText) {
				t.Fatalf("error %v, want one saying %q", err, row.errText)
			}
			return
		}
		if !errors.Is(err, row.err) {
			t.Fatalf("error %v, want one matching %v", err, row.err)
		}
		return
	}
	if err != nil {
		t.Fatalf("error %v, want status %d", err, row.status)
	}
	defer resp.Body.Close()
	if row.cancel == midStream {
		// Read the first event, then cancel.
		br := bufio.NewReader(resp.Body)
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatalf("first line: %v", err)
		}
		cancel()
		_, err := io.Copy(io.Discard, br)
		if !errors.Is(err, row.err) {
			t.Fatalf("reading after cancel: %v, want %v", err, row.err)
		}
		return
	}
	if resp.StatusCode != row.status {
		t.Fatalf("status %d, want %d", resp.StatusCode, row.status)
	}
	if row.status != http.StatusOK {
		// The last real response, with the server's error JSON intact.
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Message == "" {
			t.Errorf("body of the %d is not the server's error JSON: %v", resp.StatusCode, err)
		}
		return
	}
	data, err := io.ReadAll(resp.Body)
	switch {
	case row.bodyErr != nil:
		if !errors.Is(err, row.bodyErr) {
			t.Errorf("reading the body: %v, want %v", err, row.bodyErr)
		}
	case err != nil:
		t.Errorf("reading the body: %v", err)
	case row.badBody:
		if err := checkAnswer(data, stream); err == nil {
			t.Errorf("the body is a complete answer, want a truncated one:\n%s", data)
		}
	default:
		if err := checkAnswer(data, stream); err != nil {
			t.Errorf("the body is not a complete answer: %v\n%s", err, data)
		}
	}
}

// checkAfter checks what must hold after every row: the gate holds no permit
// and queues nothing, and every body the base handed out was closed.
func checkAfter(t *testing.T, st *pacer.Stack, counter *loadgen.Counter) {
	t.Helper()
	if _, inFlight, queued := gateCounts(st); inFlight != 0 || queued != 0 {
		t.Errorf("gate: %d in flight, %d queued; want 0 and 0", inFlight, queued)
	}
	if c := counter.Stats(); c.Bodies != c.Closed {
		t.Errorf("base handed out %d response bodies, %d closed", c.Bodies, c.Closed)
	}
}

func gateCounts(st *pacer.Stack) (limit, inFlight, queued int) {
	st.Gate.EachKey(func(_ string, l, f, q int) { limit, inFlight, queued = limit+l, inFlight+f, queued+q })
	return
}

// faultServer is the fake API behind a row's front.
type faultServer struct {
	*llmtest.Handler
	ts *httptest.Server
}

func newFaultServer(cfg llmtest.Config, stream bool, front func(int64, bool, http.ResponseWriter, *http.Request) bool) *faultServer {
	h := llmtest.NewHandler(cfg)
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if front != nil && front(n.Add(1), stream, w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	return &faultServer{Handler: h, ts: ts}
}

func (s *faultServer) URL() string { return s.ts.URL + "/v1" }

func (s *faultServer) Close() {
	s.Handler.Close()
	s.ts.Close()
}

// stalled429 answers the first request with a 429 whose body stops after a
// few bytes and never ends, until the client gives up on it.
func stalled429(n int64, _ bool, w http.ResponseWriter, r *http.Request) bool {
	if n != 1 {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("retry-after-ms", "1")
	w.WriteHeader(http.StatusTooManyRequests)
	io.WriteString(w, `{"error":{"message":"Rate limit reached`)
	w.(http.Flusher).Flush()
	<-r.Context().Done()
	return true
}

// leadingPadding answers every request with one byte of padding before the
// answer, as some gateways do: an empty line before a JSON body, a comment
// before a stream's first event.
func leadingPadding(_ int64, stream bool, w http.ResponseWriter, r *http.Request) bool {
	io.Copy(io.Discard, r.Body)
	if stream {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, ": OPENROUTER PROCESSING\n\n")
		io.WriteString(w, `data: {"id":"1","object":"chat.completion.chunk","model":"deepseek-chat","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":"stop"}]}`+"\n\n")
		io.WriteString(w, "data: [DONE]\n\n")
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, "\n"+`{"id":"1","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}]}`)
	return true
}

// chat sends a chat completion request to the API at baseURL.
func chat(ctx context.Context, c *http.Client, baseURL string, stream bool) (*http.Response, error) {
	return chatWith(ctx, c, baseURL, stream, nil)
}

// chatWith is chat with the request changed by mangle, when set, before it
// is sent.
func chatWith(ctx context.Context, c *http.Client, baseURL string, stream bool, mangle func(*http.Request)) (*http.Response, error) {
	body := `{"model":"deepseek-chat","messages":[{"role":"user","content":"Say hello."}]}`
	if stream {
		body = `{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"Say hello."}]}`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/chat/completions", bytes.NewReader([]byte(body)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-test")
	if mangle != nil {
		mangle(req)
	}
	return c.Do(req)
}

// readAnswer reads a chat answer to its end and checks it is complete.
func readAnswer(resp *http.Response, stream bool) error {
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return checkAnswer(data, stream)
}

// checkAnswer reports whether data is a complete chat answer: a JSON
// chat.completion with choices, or a stream whose last event is
// "data: [DONE]", with no keep-alive bytes left in either.
func checkAnswer(data []byte, stream bool) error {
	if !stream {
		if len(data) == 0 || data[0] != '{' {
			return fmt.Errorf("the JSON does not start with '{'")
		}
		var v struct {
			Choices []json.RawMessage `json:"choices"`
		}
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		if len(v.Choices) == 0 {
			return errors.New("no choices")
		}
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	done := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, ":") {
			return fmt.Errorf("a comment line reached the caller: %q", line)
		}
		if line == "data: [DONE]" {
			done = true
		}
	}
	if !done {
		return errors.New("stream ended without [DONE]")
	}
	return nil
}
