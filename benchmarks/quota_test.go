package benchmarks

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/llmtest"
)

// The windowed workload: quotaCallers goroutines share quotaRequests chat
// completions against an account that allows quotaRPW requests and
// quotaTPW tokens per window of quotaPeriod (OpenAI's RPM and TPM, scaled
// to a window of a second), announced on every response with OpenAI's
// x-ratelimit-* headers and enforced with a 429 beyond either: llmtest's
// OpenAI personality. The server counts a request when it arrives, as
// OpenAI does: the body's length / 4 plus its max_tokens. Each request costs about quotaCost tokens, so the
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

// newWindowServer is llmtest's OpenAI personality with the workload's
// windows, recording requests so that a request's cost can be read back.
// With noHint its 429s carry no retry-after-ms, only the x-ratelimit-*
// headers, as some compatible gateways answer.
func newWindowServer(noHint bool) *llmtest.Server {
	return llmtest.NewServer(llmtest.Config{
		Provider:       llmtest.OpenAI,
		Windows:        llmtest.Windows{Requests: quotaRPW, Tokens: quotaTPW, Period: quotaPeriod, NoHint: noHint},
		ServiceTime:    quotaService,
		RecordRequests: true,
	})
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
	for _, noHint := range []bool{false, true} {
		hint := "retry-after-ms"
		if noHint {
			hint = "headers-only"
		}
		for _, c := range quotaContenders {
			b.Run(hint+"/"+c.name, func(b *testing.B) {
				benchQuota(b, c, noHint)
			})
		}
	}
}

func benchQuota(b *testing.B, c quotaContender, noHint bool) {
	var goodput, limited, success float64
	for range b.N {
		g, l, s := runQuota(b, c, noHint)
		goodput += g
		limited += l
		success += s
	}
	n := float64(b.N)
	b.ReportMetric(goodput/n, "goodput/ideal")
	b.ReportMetric(100*limited/n, "%429")
	b.ReportMetric(100*success/n, "%success")
	b.ReportMetric(0, "ns/op")
}

func runQuota(b *testing.B, c quotaContender, noHint bool) (goodput, limited, success float64) {
	srv := newWindowServer(noHint)
	defer srv.Close()
	client, done := c.client(srv.URL())
	defer done()
	params := openai.ChatCompletionNewParams{
		Model:     "gpt-4o-mini",
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage(quotaPrompt)},
		MaxTokens: openai.Int(quotaMaxTokens),
	}
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
	// The server charges a request its body's length / 4 plus max_tokens.
	cost := int64(len(srv.Requests()[0].Body))/4 + quotaMaxTokens
	perWindow := min(int64(quotaRPW), quotaTPW/cost)
	ok := okN.Load()
	// The windows serve perWindow requests each: the last of ok
	// successes can start no sooner than the start of window
	// (ok-1)/perWindow. Goodput is that least time over the time taken.
	ideal := time.Duration((max(ok, 1)-1)/perWindow)*quotaPeriod + quotaService
	st := srv.Stats()
	attempts := st.Requests
	if testing.Verbose() {
		b.Logf("%d attempts, %d 429s; a request costs %d tokens", attempts, st.RateLimited, cost)
	}
	return ideal.Seconds() / took.Seconds(), float64(st.RateLimited) / float64(attempts), float64(ok) / quotaRequests
}
