package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// ErrCapReached is returned by a [Counter] asked for more attempts than its
// MaxAttempts cap, and ends a run when no new request may be started.
var ErrCapReached = errors.New("loadgen: the cap on requests sent was reached")

// StatusError ends a run when the API answers with a status that will not
// get better by sending more requests: 401, 402, 403 or 404.
type StatusError struct {
	StatusCode int
	Body       string // the start of the response body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("loadgen: %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Body)
}

// Workload describes a run: Requests chat completions sent by Callers
// concurrent callers through Client.
type Workload struct {
	Client    *http.Client // nil means http.DefaultClient
	URL       string       // the chat completions endpoint, ".../v1/chat/completions"
	APIKey    string       // sent as a bearer token when not empty
	Model     string
	Prompt    string
	Requests  int  // logical requests to send
	Callers   int  // concurrent callers; at least 1
	Stream    bool // ask for a streamed answer
	MaxTokens int  // max_tokens of each request; 0 leaves it out
	// TokenBudget, when positive, stops starting new requests once the
	// tokens reported by the answers reach it.
	TokenBudget int64
	// Counter, when set, is the Counter at the base of Client: once its
	// MaxAttempts cap is reached no new request is started.
	Counter *Counter
	// Context is applied to each request (for example a priority); nil
	// means the run's context.
	Context func(context.Context) context.Context
}

// Progress is a live snapshot of a [Run].
type Progress struct {
	Started, Done, OK, Failed int64
	Tokens                    int64
	Elapsed                   time.Duration
}

// Summary is the result of a finished [Run].
type Summary struct {
	Progress
	// Failures counts failed requests by reason ("429", "503",
	// "network_error", "timeout", "bad body", ...).
	Failures map[string]int64
	// P50 and P99 are latency percentiles of the successful requests.
	P50, P99 time.Duration
	// Err is why the run stopped early, if it did: a *StatusError, an error
	// wrapping ErrCapReached, or the context's error.
	Err error
}

// Run is a workload in progress.
type Run struct {
	w     Workload
	start time.Time
	body  []byte
	stop  context.CancelFunc

	next                      atomic.Int64
	started, done, ok, failed atomic.Int64
	tokens                    atomic.Int64
	elapsed                   atomic.Int64 // set when the run ends

	mu        sync.Mutex
	latencies []time.Duration
	failures  map[string]int64
	err       error

	wg       sync.WaitGroup
	finished chan struct{}
}

// Start starts the workload and returns at once.
func Start(ctx context.Context, w Workload) *Run {
	if w.Client == nil {
		w.Client = http.DefaultClient
	}
	if w.Callers < 1 {
		w.Callers = 1
	}
	if w.Prompt == "" {
		w.Prompt = "Say hello."
	}
	ctx, stop := context.WithCancel(ctx)
	r := &Run{w: w, start: time.Now(), stop: stop, failures: map[string]int64{}, finished: make(chan struct{})}
	r.body = requestBody(w)
	r.latencies = make([]time.Duration, 0, w.Requests)
	for range w.Callers {
		r.wg.Add(1)
		go r.caller(ctx)
	}
	go func() {
		r.wg.Wait()
		r.elapsed.Store(int64(time.Since(r.start)))
		stop()
		close(r.finished)
	}()
	return r
}

func requestBody(w Workload) []byte {
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	body := struct {
		Model         string    `json:"model"`
		Messages      []message `json:"messages"`
		Stream        bool      `json:"stream,omitempty"`
		StreamOptions any       `json:"stream_options,omitempty"`
		MaxTokens     int       `json:"max_tokens,omitempty"`
	}{Model: w.Model, Messages: []message{{"user", w.Prompt}}, Stream: w.Stream, MaxTokens: w.MaxTokens}
	if w.Stream {
		body.StreamOptions = map[string]bool{"include_usage": true}
	}
	b, _ := json.Marshal(body)
	return b
}

// Progress returns the counts so far.
func (r *Run) Progress() Progress {
	el := time.Duration(r.elapsed.Load())
	if el == 0 {
		el = time.Since(r.start)
	}
	return Progress{
		Started: r.started.Load(), Done: r.done.Load(), OK: r.ok.Load(), Failed: r.failed.Load(),
		Tokens: r.tokens.Load(), Elapsed: el,
	}
}

// StartedAt is when the run started.
func (r *Run) StartedAt() time.Time { return r.start }

// Done is closed when the run has ended.
func (r *Run) Done() <-chan struct{} { return r.finished }

// Wait waits for the run to end and summarises it.
func (r *Run) Wait() Summary {
	<-r.finished
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{Progress: r.Progress(), Failures: r.failures, Err: r.err}
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	s.P50 = Percentile(r.latencies, 0.50)
	s.P99 = Percentile(r.latencies, 0.99)
	return s
}

// Percentile returns the p-quantile (0..1) of sorted, by the nearest-rank
// method; zero for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func (r *Run) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.stop()
}

func (r *Run) caller(ctx context.Context) {
	defer r.wg.Done()
	for ctx.Err() == nil {
		if n := r.next.Add(1); n > int64(r.w.Requests) {
			return
		}
		if b := r.w.TokenBudget; b > 0 && r.tokens.Load() >= b {
			r.fail(fmt.Errorf("%w: %d tokens used (token budget %d)", ErrCapReached, r.tokens.Load(), b))
			return
		}
		if c := r.w.Counter; c != nil && c.MaxAttempts > 0 && c.attempts.Load() >= c.MaxAttempts {
			r.fail(fmt.Errorf("%w: %d requests sent (cap %d)", ErrCapReached, c.attempts.Load(), c.MaxAttempts))
			return
		}
		r.started.Add(1)
		begin := time.Now()
		tokens, reason, err := r.one(ctx)
		lat := time.Since(begin)
		r.tokens.Add(tokens)
		r.done.Add(1)
		if reason == "" {
			r.ok.Add(1)
			r.mu.Lock()
			r.latencies = append(r.latencies, lat)
			r.mu.Unlock()
			continue
		}
		r.failed.Add(1)
		r.mu.Lock()
		r.failures[reason]++
		r.mu.Unlock()
		var se *StatusError
		if errors.As(err, &se) || errors.Is(err, ErrCapReached) {
			r.fail(err)
		}
	}
}

// one sends one request and reads its answer. It returns the tokens used and,
// on failure, a short reason and the error behind it.
func (r *Run) one(ctx context.Context) (int64, string, error) {
	if r.w.Context != nil {
		ctx = r.w.Context(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.w.URL, bytes.NewReader(r.body))
	if err != nil {
		return 0, "bad request", err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.w.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.w.APIKey)
	}
	resp, err := r.w.Client.Do(req)
	if err != nil {
		if errors.Is(err, ErrCapReached) {
			return 0, "not sent (cap)", err
		}
		return 0, errorReason(err), err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		err := &StatusError{StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(snippet))}
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound:
			return 0, fmt.Sprint(resp.StatusCode), err
		}
		return 0, fmt.Sprint(resp.StatusCode), nil
	}
	var tokens int64
	if r.w.Stream {
		tokens, err = readStream(resp.Body)
	} else {
		tokens, err = readJSON(resp.Body)
	}
	if err != nil {
		return tokens, "bad body", err
	}
	return tokens, "", nil
}

// errorReason names a failed request by its outcome and, for an error that
// is not a timeout or a cancellation, by what the client said.
func errorReason(err error) string {
	o := transport.Classify(nil, err)
	if o != transport.NetworkError {
		return o.String()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	// Leave out a leading "POST http://host/path " that some clients add.
	if i := strings.Index(msg, "://"); i >= 0 {
		if j := strings.IndexByte(msg[i:], ' '); j >= 0 {
			msg = msg[i+j+1:]
		}
	}
	if len(msg) > 60 {
		msg = msg[:57] + "..."
	}
	return "error (" + msg + ")"
}

type usage struct {
	Usage *struct {
		TotalTokens int64 `json:"total_tokens"`
	} `json:"usage"`
	Choices []json.RawMessage `json:"choices"`
}

func readJSON(body io.Reader) (int64, error) {
	var u usage
	if err := json.NewDecoder(body).Decode(&u); err != nil {
		return 0, err
	}
	if len(u.Choices) == 0 {
		return 0, errors.New("loadgen: answer without choices")
	}
	if u.Usage != nil {
		return u.Usage.TotalTokens, nil
	}
	return 0, nil
}

func readStream(body io.Reader) (int64, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var tokens int64
	for sc.Scan() {
		line := sc.Bytes()
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			_, _ = io.Copy(io.Discard, body)
			return tokens, nil
		}
		var u usage
		if json.Unmarshal(data, &u) == nil && u.Usage != nil {
			tokens = u.Usage.TotalTokens
		}
	}
	if err := sc.Err(); err != nil {
		return tokens, err
	}
	return tokens, errors.New("loadgen: stream ended without [DONE]")
}
