package transport_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/transport"
)

func response(code int, body string) *http.Response {
	return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader(body))}
}

func TestClassifyQuota(t *testing.T) {
	long := `{"error":{"message":"` + strings.Repeat("x", 2000) + `","code":"insufficient_quota"}}`
	for _, tt := range []struct {
		name string
		code int
		body string
		want transport.Outcome
	}{
		{"openai quota", 429, `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`, transport.QuotaExhausted},
		{"billing limit", 429, `{"error":{"code":"billing_hard_limit_reached"}}`, transport.QuotaExhausted},
		{"rate limit", 429, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`, transport.RateLimited},
		{"anthropic rate", 429, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`, transport.RateLimited},
		{"empty", 429, ``, transport.RateLimited},
		{"garbage", 429, "\x00\xff{{{", transport.RateLimited},
		{"code past the peek", 429, long, transport.RateLimited},
		{"quota words on a 500", 500, `{"error":{"code":"insufficient_quota"}}`, transport.ServerError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := response(tt.code, tt.body)
			if got := transport.Classify(resp, nil); got != tt.want {
				t.Fatalf("Classify = %v, want %v", got, tt.want)
			}
			// Classified again through a layer's body wrapper: same verdict.
			resp.Body = httpbody.OnDone(resp.Body, func(error) {})
			if got := transport.Classify(resp, nil); got != tt.want {
				t.Fatalf("second Classify = %v, want %v", got, tt.want)
			}
			got, err := io.ReadAll(resp.Body)
			if err != nil || string(got) != tt.body {
				t.Fatalf("body after Classify = %q, %v; want it whole", got, err)
			}
			resp.Body.Close()
		})
	}
}

// A 429 whose body stalls is classified by what arrived, within the peek's
// time bound, and the caller's read then ends in an error, never a hang.
func TestClassifyQuotaStalledBody(t *testing.T) {
	synctest.Test(t, testClassifyQuotaStalledBody)
}

func testClassifyQuotaStalledBody(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte(`{"error":{"code":"insufficient_quota"`))
	resp := &http.Response{StatusCode: 429, Body: pr}
	if got := transport.Classify(resp, nil); got != transport.QuotaExhausted {
		t.Fatalf("Classify = %v, want QuotaExhausted", got)
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("reading a stalled, closed body succeeded")
	}
}
