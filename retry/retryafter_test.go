package retry

import (
	"math"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	in := func(d time.Duration) time.Time { return now.Add(d) }
	tests := []struct {
		name   string
		header [][2]string
		want   time.Duration
		ok     bool
	}{
		{"empty", nil, 0, false},
		{"seconds", [][2]string{{"Retry-After", "2"}}, 2 * time.Second, true},
		{"zero", [][2]string{{"Retry-After", "0"}}, 0, true},
		{"spaces", [][2]string{{"Retry-After", "  3 "}}, 3 * time.Second, true},
		{"fraction", [][2]string{{"Retry-After", "0.5"}}, 500 * time.Millisecond, true},
		{"trailing dot", [][2]string{{"Retry-After", "3."}}, 3 * time.Second, true},
		{"leading dot", [][2]string{{"Retry-After", ".25"}}, 250 * time.Millisecond, true},
		{"ms", [][2]string{{"Retry-After-Ms", "1500"}}, 1500 * time.Millisecond, true},
		{"ms fraction", [][2]string{{"Retry-After-Ms", "20.5"}}, 20500 * time.Microsecond, true},
		{"ms wins", [][2]string{{"Retry-After-Ms", "100"}, {"Retry-After", "7"}}, 100 * time.Millisecond, true},
		{"bad ms falls back", [][2]string{{"Retry-After-Ms", "soon"}, {"Retry-After", "7"}}, 7 * time.Second, true},
		{"negative ms falls back", [][2]string{{"Retry-After-Ms", "-5"}, {"Retry-After", "1"}}, time.Second, true},
		{"IMF-fixdate", [][2]string{{"Retry-After", in(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second, true},
		{"RFC 850", [][2]string{{"Retry-After", in(time.Minute).Format(time.RFC850)}}, time.Minute, true},
		{"asctime", [][2]string{{"Retry-After", in(time.Hour).Format(time.ANSIC)}}, time.Hour, true},
		{"past date", [][2]string{{"Retry-After", in(-time.Hour).Format(http.TimeFormat)}}, 0, true},
		{"date against Date header", [][2]string{
			{"Retry-After", in(time.Hour + 30*time.Second).Format(http.TimeFormat)},
			{"Date", in(time.Hour).Format(http.TimeFormat)},
		}, 30 * time.Second, true},
		{"bad Date header ignored", [][2]string{
			{"Retry-After", in(30 * time.Second).Format(http.TimeFormat)},
			{"Date", "yesterday"},
		}, 30 * time.Second, true},
		{"negative", [][2]string{{"Retry-After", "-1"}}, 0, false},
		{"plus sign", [][2]string{{"Retry-After", "+1"}}, 0, false},
		{"exponent", [][2]string{{"Retry-After", "1e3"}}, 0, false},
		{"hex float", [][2]string{{"Retry-After", "0x1p3"}}, 0, false},
		{"NaN", [][2]string{{"Retry-After", "NaN"}}, 0, false},
		{"Inf", [][2]string{{"Retry-After", "Inf"}}, 0, false},
		{"garbage", [][2]string{{"Retry-After", "soon"}}, 0, false},
		{"unit suffix", [][2]string{{"Retry-After", "5s"}}, 0, false},
		{"two dots", [][2]string{{"Retry-After", "1.2.3"}}, 0, false},
		{"lone dot", [][2]string{{"Retry-After", "."}}, 0, false},
		{"comma list", [][2]string{{"Retry-After", "1, 2"}}, 0, false},
		{"huge seconds", [][2]string{{"Retry-After", "99999999999999999999"}}, math.MaxInt64, true},    // overflow: very long
		{"seconds overflow duration", [][2]string{{"Retry-After", "9300000000"}}, math.MaxInt64, true}, // overflow: very long
		{"largest seconds", [][2]string{{"Retry-After", "9223372036"}}, 9223372036 * time.Second, true},
		{"huge fraction", [][2]string{{"Retry-After", "9300000000.5"}}, math.MaxInt64, true},                    // overflow: very long
		{"huge ms", [][2]string{{"Retry-After-Ms", "100000000000000000000000000"}}, math.MaxInt64, true},        // overflow: very long
		{"far future date", [][2]string{{"Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"}}, math.MaxInt64, true}, // overflow: very long
		{"several values: first wins", [][2]string{{"Retry-After", "4"}, {"Retry-After", "9"}}, 4 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, kv := range tt.header {
				h.Add(kv[0], kv[1])
			}
			got, ok := ParseRetryAfter(h, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseRetryAfter(%v) = %v, %v; want %v, %v", h, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestResetHint(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{"none", nil, 0, false},
		{"requests exhausted", map[string]string{
			"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "1s",
		}, time.Second, true},
		{"requests left: ignored", map[string]string{
			"X-Ratelimit-Remaining-Requests": "3", "X-Ratelimit-Reset-Requests": "1s",
		}, 0, false},
		{"tokens exhausted", map[string]string{
			"X-Ratelimit-Remaining-Tokens": "0", "X-Ratelimit-Reset-Tokens": "6m0s",
		}, 6 * time.Minute, true},
		{"both exhausted: longest", map[string]string{
			"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "20ms",
			"X-Ratelimit-Remaining-Tokens": "0", "X-Ratelimit-Reset-Tokens": "1m30.5s",
		}, 90*time.Second + 500*time.Millisecond, true},
		{"only the exhausted one counts", map[string]string{
			"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "20ms",
			"X-Ratelimit-Remaining-Tokens": "100", "X-Ratelimit-Reset-Tokens": "1m",
		}, 20 * time.Millisecond, true},
		{"garbage", map[string]string{
			"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "soon",
		}, 0, false},
		{"negative", map[string]string{
			"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "-1s",
		}, 0, false},
		{"anthropic requests exhausted", map[string]string{
			"Anthropic-Ratelimit-Requests-Remaining": "0", "Anthropic-Ratelimit-Requests-Reset": "2026-11-27T12:00:02Z",
		}, 2 * time.Second, true},
		{"anthropic against the Date header", map[string]string{
			"Anthropic-Ratelimit-Tokens-Remaining": "0", "Anthropic-Ratelimit-Tokens-Reset": "2026-11-27T12:01:00.5Z",
			"Date": "Fri, 27 Nov 2026 12:00:30 GMT",
		}, 30*time.Second + 500*time.Millisecond, true},
		{"anthropic output tokens, longest of two", map[string]string{
			"Anthropic-Ratelimit-Requests-Remaining": "0", "Anthropic-Ratelimit-Requests-Reset": "2026-11-27T12:00:01Z",
			"Anthropic-Ratelimit-Output-Tokens-Remaining": "0", "Anthropic-Ratelimit-Output-Tokens-Reset": "2026-11-27T13:00:00+01:00",
		}, time.Second, true},
		{"anthropic tokens left: ignored", map[string]string{
			"Anthropic-Ratelimit-Requests-Remaining": "12", "Anthropic-Ratelimit-Requests-Reset": "2026-11-27T12:00:02Z",
		}, 0, false},
		{"anthropic reset past", map[string]string{
			"Anthropic-Ratelimit-Input-Tokens-Remaining": "0", "Anthropic-Ratelimit-Input-Tokens-Reset": "2026-11-27T11:59:00Z",
		}, 0, true},
		{"anthropic garbage", map[string]string{
			"Anthropic-Ratelimit-Requests-Remaining": "0", "Anthropic-Ratelimit-Requests-Reset": "in 2 seconds",
		}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := resetHint(h, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
			if got != tt.want || ok != tt.ok {
				t.Errorf("resetHint = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range [][3]string{
		{"2", "", ""},
		{"0.5", "", ""},
		{"", "1500", ""},
		{"", "20.5", ""},
		{"Fri, 27 Nov 2026 12:01:30 GMT", "", "Fri, 27 Nov 2026 12:00:00 GMT"},
		{"Friday, 27-Nov-26 12:01:00 GMT", "", ""},
		{"Fri Nov 27 13:00:00 2026", "", ""},
		{"Fri, 31 Dec 9999 23:59:59 GMT", "", ""},
		{"Mon, 01 Jan 0001 00:00:00 GMT", "", "Fri, 31 Dec 9999 23:59:59 GMT"},
		{"-1", "-1", ""},
		{"99999999999999999999", "1e400", ""},
		{"9223372036.854775807", "9223372036854.775807", ""},
		{"NaN", "Inf", ""},
		{".", "..", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, retryAfter, ms, date string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("Retry-After-Ms", ms)
		h.Set("Date", date)
		d, ok := ParseRetryAfter(h, now)
		if d < 0 {
			t.Fatalf("ParseRetryAfter = %v, %v: negative", d, ok)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter = %v, false: want 0 with false", d)
		}
	})
}

func BenchmarkParseRetryAfter(b *testing.B) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		key  string
		val  string
	}{
		{"Seconds", "Retry-After", "2"},
		{"Millis", "Retry-After-Ms", "1500.5"},
		{"HTTPDate", "Retry-After", now.Add(time.Minute).Format(http.TimeFormat)},
		{"None", "X-Other", "1"},
	} {
		h := http.Header{}
		h.Set(bc.key, bc.val)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseRetryAfter(h, now)
			}
		})
	}
}
