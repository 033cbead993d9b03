package retry

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads the delay a server asks for before the next request.
//
// It reads, in this order:
//
//   - retry-after-ms: milliseconds, possibly fractional ("1500", "20.5");
//   - Retry-After as delta-seconds, possibly fractional ("2", "0.5");
//   - Retry-After as an HTTP-date in any of the three forms [http.ParseTime]
//     accepts. A date is measured against the response's own Date header
//     when that parses (so the two clocks' skew cancels out), else against
//     now. A date in the past gives 0, true.
//
// Numbers are plain decimals: no sign, exponent, or surrounding text. An
// invalid retry-after-ms is ignored in favour of Retry-After. When a header
// appears more than once, its first value is used. Negative or malformed
// values give 0, false. A value too long for a time.Duration (20 digits,
// the year 9999) gives the longest Duration, true: the server asks for a
// very long wait, not for none. The result is never negative, and it is
// not capped: capping is the caller's policy ([Config.MaxRetryAfter]).
func ParseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if d, ok := parseDecimal(v, time.Millisecond); ok {
			return d, true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if v[0] == '.' || v[0] >= '0' && v[0] <= '9' {
		return parseDecimal(v, time.Second)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if v := h.Get("Date"); v != "" {
		if date, err := http.ParseTime(v); err == nil {
			now = date
		}
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0, true
	}
	return d, true // Sub saturates at the longest Duration
}

// parseDecimal parses s, a decimal number of units ("12", "0.25", "3."),
// into a duration. It accepts nothing else; a value that does not fit in a
// time.Duration gives the longest one.
func parseDecimal(s string, unit time.Duration) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "." {
		return 0, false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if !dot {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > math.MaxInt64/int64(unit) {
			// Only digits, so the only error is a value out of range.
			return math.MaxInt64, true
		}
		return time.Duration(n) * unit, true
	}
	// Digits and one dot: ParseFloat fails only on a value out of range,
	// giving +Inf.
	f, _ := strconv.ParseFloat(s, 64)
	ns := f * float64(unit)
	if !(ns < math.MaxInt64) {
		return math.MaxInt64, true
	}
	return time.Duration(ns), true
}

// resetHint reads the reset time of an exhausted window: OpenAI's
// x-ratelimit-reset-requests and x-ratelimit-reset-tokens (Go-style
// durations such as "1s", "6m0s", "20ms") and Anthropic's
// anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset
// (RFC 3339 times, measured against the response's Date header when that
// parses, else against now; a time past gives 0). Of the windows whose
// matching remaining header is "0", it returns the longest wait: the time
// until the exhausted limit resets.
func resetHint(h http.Header, now time.Time) (time.Duration, bool) {
	var best time.Duration
	found := false
	note := func(d time.Duration) {
		if !found || d > best {
			best, found = d, true
		}
	}
	for _, kind := range [...][2]string{
		{"X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests"},
		{"X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"},
	} {
		if strings.TrimSpace(h.Get(kind[0])) != "0" {
			continue
		}
		if d, err := time.ParseDuration(strings.TrimSpace(h.Get(kind[1]))); err == nil && d >= 0 {
			note(d)
		}
	}
	for _, kind := range [...][2]string{
		{"Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset"},
		{"Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Reset"},
		{"Anthropic-Ratelimit-Input-Tokens-Remaining", "Anthropic-Ratelimit-Input-Tokens-Reset"},
		{"Anthropic-Ratelimit-Output-Tokens-Remaining", "Anthropic-Ratelimit-Output-Tokens-Reset"},
	} {
		if strings.TrimSpace(h.Get(kind[0])) != "0" {
			continue
		}
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(h.Get(kind[1])))
		if err != nil {
			continue
		}
		ref := now
		if date, err := http.ParseTime(h.Get("Date")); err == nil {
			ref = date
		}
		note(max(at.Sub(ref), 0))
	}
	return best, found
}

// serverHint is the delay the response asks for: [ParseRetryAfter], or else
// [resetHint].
func serverHint(h http.Header, now time.Time) (time.Duration, bool) {
	if d, ok := ParseRetryAfter(h, now); ok {
		return d, true
	}
	return resetHint(h, now)
}
