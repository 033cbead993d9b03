package transport

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimit is what a server announced about one of an account's windowed
// limits (requests or tokens per minute, say) on one response.
type RateLimit struct {
	// Limit is the window's size; zero when not announced.
	Limit int64
	// Remaining is what is left of it; meaningful when Reported.
	Remaining int64
	// Reset is when the window is next full again; zero when not announced.
	Reset time.Time
	// Reported says the response announced at least one of the three.
	Reported bool
}

// RateLimits are the windowed limits one response announced, from OpenAI's
// (and compatible providers') x-ratelimit-{limit,remaining,reset}-{requests,tokens}
// and Anthropic's anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}
// headers. OpenAI's resets are durations from now ("6m0s", "20ms", "1s");
// Anthropic's are RFC 3339 times. A value that does not parse is left out, as
// if it was not sent.
type RateLimits struct {
	Requests     RateLimit
	Tokens       RateLimit
	InputTokens  RateLimit
	OutputTokens RateLimit
}

// Reported says whether any limit was announced.
func (r RateLimits) Reported() bool {
	return r.Requests.Reported || r.Tokens.Reported || r.InputTokens.Reported || r.OutputTokens.Reported
}

// The headers, in canonical form, so that lookups index the map directly.
var rateLimitHeaders = [...]struct {
	limit, remaining, reset string
	anthropic               bool
	field                   uint8 // 0 Requests, 1 Tokens, 2 InputTokens, 3 OutputTokens
}{
	{"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests", false, 0},
	{"X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens", false, 1},
	{"Anthropic-Ratelimit-Requests-Limit", "Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset", true, 0},
	{"Anthropic-Ratelimit-Tokens-Limit", "Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Reset", true, 1},
	{"Anthropic-Ratelimit-Input-Tokens-Limit", "Anthropic-Ratelimit-Input-Tokens-Remaining", "Anthropic-Ratelimit-Input-Tokens-Reset", true, 2},
	{"Anthropic-Ratelimit-Output-Tokens-Limit", "Anthropic-Ratelimit-Output-Tokens-Remaining", "Anthropic-Ratelimit-Output-Tokens-Reset", true, 3},
}

// ParseRateLimits reads the rate-limit headers of h; now anchors resets
// given as durations. It allocates nothing.
func ParseRateLimits(h http.Header, now time.Time) RateLimits {
	var out RateLimits
	if len(h) == 0 {
		return out
	}
	for _, names := range rateLimitHeaders {
		var l *RateLimit
		switch names.field {
		case 0:
			l = &out.Requests
		case 1:
			l = &out.Tokens
		case 2:
			l = &out.InputTokens
		default:
			l = &out.OutputTokens
		}
		if v, ok := headerInt(h, names.limit); ok && v >= 0 {
			l.Limit, l.Reported = v, true
		}
		if v, ok := headerInt(h, names.remaining); ok && v >= 0 {
			l.Remaining, l.Reported = v, true
		}
		if v := first(h, names.reset); v != "" {
			if t, ok := parseReset(v, now, names.anthropic); ok {
				l.Reset, l.Reported = t, true
			}
		}
	}
	return out
}

func first(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return strings.TrimSpace(vs[0])
	}
	return ""
}

func headerInt(h http.Header, key string) (int64, bool) {
	v := first(h, key)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// parseReset reads a reset as a duration from now (OpenAI: "1s", "6m0s",
// "20ms", a bare number of seconds) or an RFC 3339 time (Anthropic).
func parseReset(v string, now time.Time, anthropic bool) (time.Time, bool) {
	if anthropic || strings.IndexByte(v, 'T') > 0 {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, false
		}
		if t.Before(now) {
			t = now // already reset
		}
		return t, true
	}
	if isNumber(v) {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs > 1e9 {
			return time.Time{}, false
		}
		return now.Add(time.Duration(secs * float64(time.Second))), true
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return time.Time{}, false
	}
	return now.Add(d), true
}

// isNumber reports whether v holds only digits and dots.
func isNumber(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return v != ""
}
