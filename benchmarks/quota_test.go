package benchmarks

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/pacerhttp/pacer"
)

// The windowed workload: quotaCallers goroutines share quotaRequests chat
// completions against an account that allows quotaRPW requests and
// quotaTPW tokens per window of quotaPeriod (OpenAI's RPM and TPM, scaled
// to a window of a second), announced on every response with OpenAI's
// x-ratelimit-* headers and enforced with a 429 beyond either. The server
// counts a request when it arrives, as OpenAI does: the body's length / 4
// plus its max_tokens. Each request costs about quotaCost tokens, so the
// token window binds: quotaTPW/quotaCost requests per window.
const (
	quotaCallers   = 32
	quotaRequests  = 240
	quotaPeriod    = time.Second
	quotaRPW       = 60
	quotaTPW       = 8000
	quotaMaxTokens = 100
	quotaService   = 20 * time.Millisecond
)

// quotaPrompt makes a request body of about 400 bytes: with max_tokens it
// costs about quotaCost tokens.
var quotaPrompt = strings.Repeat("Tell me about windows. ", 15)

// windowServer is an httptest server enforcing fixed request and token
// windows.
type windowServer struct {
	ts      *httptest.Server
	mu      sync.Mutex
	start   time.Time
	win     int64
	usedR   int64
	usedT   int64
	cost    atomic.Int64 // the last request's charge
	ok      atomic.Int64
	limited atomic.Int64
	byWin   [16]atomic.Int64
}

func newWindowServer() *windowServer {
	s := &windowServer{start: time.Now()}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *windowServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	charge := int64(len(body))/4 + quotaMaxTokens
	s.cost.Store(charge)
	s.mu.Lock()
	now := time.Now()
	if k := int64(now.Sub(s.start) / quotaPeriod); k != s.win {
		s.win, s.usedR, s.usedT = k, 0, 0
	}
	reset := s.start.Add(time.Duration(s.win+1) * quotaPeriod).Sub(now)
	limited := s.usedR+1 > quotaRPW || s.usedT+charge > quotaTPW
	if !limited {
		s.usedR++
		s.usedT += charge
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-ratelimit-limit-requests", strconv.Itoa(quotaRPW))
	h.Set("x-ratelimit-remaining-requests", strconv.FormatInt(quotaRPW-s.usedR, 10))
	h.Set("x-ratelimit-reset-requests", reset.Round(time.Millisecond).String())
	h.Set("x-ratelimit-limit-tokens", strconv.Itoa(quotaTPW))
	h.Set("x-ratelimit-remaining-tokens", strconv.FormatInt(quotaTPW-s.usedT, 10))
	h.Set("x-ratelimit-reset-tokens", reset.Round(time.Millisecond).String())
	s.mu.Unlock()
	if limited {
		s.byWin[min(s.win, 15)].Add(1)
		s.limited.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`)
		return
	}
	time.Sleep(quotaService)
	s.ok.Add(1)
	fmt.Fprintf(w, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":20,"total_tokens":%d}}`, len(body)/4, len(body)/4+20)
}

// quotaContender is a client under test: an openai-go client built over
// the server's URL.
type quotaContender struct {
	name   string
	client func(url string) (openai.Client, func())
}

func pacerOpenAI(cfg func() (*http.Client, func())) func(string) (openai.Client, func()) {
	return func(url string) (openai.Client, func()) {
		hc, done := cfg()
		return openai.NewClient(option.WithBaseURL(url), option.WithAPIKey("sk-test"),
			option.WithHTTPClient(hc), option.WithMaxRetries(0)), done
	}
}

var quotaContenders = []quotaContender{
	{"openai-go-retries", func(url string) (openai.Client, func()) {
		// The SDK alone, with its default retries (2, honouring
		// Retry-After when sent).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = quotaCallers
		return openai.NewClient(option.WithBaseURL(url), option.WithAPIKey("sk-test"),
			option.WithHTTPClient(&http.Client{Transport: tr})), tr.CloseIdleConnections
	}},
	{"pacer-without-quota", pacerOpenAI(func() (*http.Client, func()) {
		// The recommended stack with its quota layer left out.
		st := pacer.New(pacer.Config{Without: pacer.LayerQuota})
		return st.Client(), st.CloseIdleConnections
	})},
	{"pacer-with-quota", pacerOpenAI(func() (*http.Client, func()) {
		// The recommended stack, quota layer included: every attempt is
		// paced.
		st := pacer.New(pacer.Config{})
		return st.Client(), st.CloseIdleConnections
	})},
}

// BenchmarkQuotaGoodput runs the windowed workload once per iteration for
// each contender and reports: goodput as a share of what the windows allow
// (the least time the windows need to serve the contender's successes,
// over the time it took), 429s as a share of attempts, and the share of
// requests that succeeded. A contender whose requests fail fast has a short
// run and few successes: read goodput beside %success. Run it with -benchtime=1x: each run lasts several windows.
func BenchmarkQuotaGoodput(b *testing.B) {
	for _, c := range quotaContenders {
		b.Run(c.name, func(b *testing.B) {
			var goodput, limited, success float64
			for range b.N {
				g, l, s := runQuota(b, c)
				goodput += g
				limited += l
				success += s
			}
			n := float64(b.N)
			b.ReportMetric(goodput/n, "goodput/ideal")
			b.ReportMetric(100*limited/n, "%429")
			b.ReportMetric(100*success/n, "%success")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func runQuota(b *testing.B, c quotaContender) (goodput, limited, success float64) {
	srv := newWindowServer()
	defer srv.ts.Close()
	client, done := c.client(srv.ts.URL + "/v1")
	defer done()
	params := openai.ChatCompletionNewParams{
		Model:     "gpt-4o-mini",
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage(quotaPrompt)},
		MaxTokens: openai.Int(quotaMaxTokens),
	}
	// The windows start with the first request.
	srv.mu.Lock()
	srv.start = time.Now()
	srv.mu.Unlock()
	start := time.Now()
	var next, okN atomic.Int64
	var wg sync.WaitGroup
	for range quotaCallers {
		wg.Go(func() {
			for next.Add(1) <= quotaRequests {
				if _, err := client.Chat.Completions.New(context.Background(), params); err == nil {
					okN.Add(1)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	perWindow := min(int64(quotaRPW), quotaTPW/srv.cost.Load())
	ok := okN.Load()
	// The windows serve perWindow requests each: the last of ok
	// successes can start no sooner than the start of window
	// (ok-1)/perWindow. Goodput is that least time over the time taken.
	ideal := time.Duration((max(ok, 1)-1)/perWindow)*quotaPeriod + quotaService
	attempts := srv.ok.Load() + srv.limited.Load()
	if testing.Verbose() {
		var byWin []int64
		for i := range srv.byWin {
			byWin = append(byWin, srv.byWin[i].Load())
		}
		b.Logf("429s by window (the last counts all later ones): %v; a request costs %d tokens", byWin, srv.cost.Load())
	}
	return ideal.Seconds() / took.Seconds(), float64(srv.limited.Load()) / float64(attempts), float64(ok) / quotaRequests
}
