package transport_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pacerhttp/pacer/transport"
)

func TestParseRateLimits(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("x-ratelimit-limit-requests", "500")
	h.Set("x-ratelimit-remaining-requests", "499")
	h.Set("x-ratelimit-reset-requests", "120ms")
	h.Set("x-ratelimit-limit-tokens", "30000")
	h.Set("x-ratelimit-remaining-tokens", "0")
	h.Set("x-ratelimit-reset-tokens", "6m0s")
	got := transport.ParseRateLimits(h, now)
	want := transport.RateLimits{
		Requests: transport.RateLimit{Limit: 500, Remaining: 499, Reset: now.Add(120 * time.Millisecond), Reported: true},
		Tokens:   transport.RateLimit{Limit: 30000, Remaining: 0, Reset: now.Add(6 * time.Minute), Reported: true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("OpenAI headers (-want +got):\n%s", d)
	}

	a := http.Header{}
	a.Set("anthropic-ratelimit-requests-limit", "50")
	a.Set("anthropic-ratelimit-requests-remaining", "0")
	a.Set("anthropic-ratelimit-requests-reset", "2026-12-03T12:00:02Z")
	a.Set("anthropic-ratelimit-output-tokens-remaining", "8000")
	a.Set("anthropic-ratelimit-input-tokens-limit", "not a number")
	got = transport.ParseRateLimits(a, now)
	want = transport.RateLimits{
		Requests:     transport.RateLimit{Limit: 50, Remaining: 0, Reset: now.Add(2 * time.Second), Reported: true},
		OutputTokens: transport.RateLimit{Remaining: 8000, Reported: true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("Anthropic headers (-want +got):\n%s", d)
	}
	if !got.Reported() || transport.ParseRateLimits(http.Header{"Content-Type": {"x"}}, now).Reported() {
		t.Fatal("Reported is wrong")
	}
}

func TestParseRateLimitsAllocs(t *testing.T) {
	h := http.Header{}
	h.Set("x-ratelimit-limit-requests", "500")
	h.Set("x-ratelimit-remaining-requests", "499")
	h.Set("x-ratelimit-reset-requests", "1s")
	h.Set("anthropic-ratelimit-tokens-reset", "2026-12-03T12:00:02Z")
	now := time.Now()
	if n := testing.AllocsPerRun(100, func() { transport.ParseRateLimits(h, now) }); n != 0 {
		t.Fatalf("ParseRateLimits allocates %v times", n)
	}
}

func FuzzParseRateLimits(f *testing.F) {
	for _, s := range []string{"1s", "6m0s", "20ms", "0.5", "2026-12-03T12:00:02Z", "-1", "1e308", "", "T", "9999999999999999999"} {
		f.Add("12", s)
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, n, reset string) {
		h := http.Header{}
		h.Set("x-ratelimit-remaining-tokens", n)
		h.Set("x-ratelimit-reset-tokens", reset)
		h.Set("anthropic-ratelimit-requests-reset", reset)
		r := transport.ParseRateLimits(h, now)
		if r.Tokens.Remaining < 0 || r.Tokens.Limit < 0 {
			t.Fatalf("negative value from %q", n)
		}
		if !r.Tokens.Reset.IsZero() && r.Tokens.Reset.Before(now) {
			t.Fatalf("reset %v before now from %q", r.Tokens.Reset, reset)
		}
	})
}

// BenchmarkParseRateLimits parses the headers of a response that carries
// none of the rate-limit headers, and of one that carries OpenAI's six.
func BenchmarkParseRateLimits(b *testing.B) {
	now := time.Now()
	none := http.Header{"Content-Type": {"application/json"}, "Date": {"Fri, 04 Dec 2026 12:00:00 GMT"}, "X-Request-Id": {"req_1"}}
	openai := http.Header{}
	for _, kind := range []string{"requests", "tokens"} {
		openai.Set("x-ratelimit-limit-"+kind, "10000")
		openai.Set("x-ratelimit-remaining-"+kind, "9999")
		openai.Set("x-ratelimit-reset-"+kind, "6m0s")
	}
	for _, tc := range []struct {
		name string
		h    http.Header
	}{{"none", none}, {"openai", openai}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				transport.ParseRateLimits(tc.h, now)
			}
		})
	}
}
