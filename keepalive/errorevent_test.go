package keepalive_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/transport"
)

// TestErrorEventBecomesStatus checks that an error a server sends inside a
// 200 stream, before any real event, reaches the layers above as the
// status it names, with the event's JSON as the body, and that any other
// stream passes untouched.
func TestErrorEventBecomesStatus(t *testing.T) {
	const (
		openAIRate   = `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`
		anthropicOvl = `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
		googleUnav   = `{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`
		quota        = `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}`
		bareRate     = `{"type":"rate_limit_error","message":"slow down"}`
		invalid      = `{"error":{"type":"invalid_request_error","message":"bad"}}`
		billing      = `{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low"}}`
		answer       = `{"choices":[{"delta":{"content":"error"}}]}`
	)
	for _, tc := range []struct {
		name, stream string
		status       int    // 200: untouched
		body         string // the body for a status other than 200
		outcome      transport.Outcome
	}{
		{"openai rate limit", ": keep-alive\n\ndata: " + openAIRate + "\n\n", 429, openAIRate, transport.RateLimited},
		{"anthropic overload", "event: error\r\ndata: " + anthropicOvl + "\r\n\r\n", 529, anthropicOvl, transport.Overloaded},
		{"code 503", "data: " + googleUnav + "\n\n", 503, googleUnav, transport.Overloaded},
		{"quota", "data: " + quota + "\n\n", 429, quota, transport.QuotaExhausted},
		{"error event without member", "event: error\ndata: " + bareRate + "\n\n", 429, bareRate, transport.RateLimited},
		{"data in two lines", "data: {\"error\":\ndata: {\"code\":\"rate_limit_exceeded\"}}\n\n", 429, "{\"error\":\n{\"code\":\"rate_limit_exceeded\"}}", transport.RateLimited},
		{"anthropic billing", "event: error\ndata: " + billing + "\n\n", 402, billing, transport.PaymentRequired},
		{"other error", "data: " + invalid + "\n\n", 200, "", transport.OK},
		{"error after an event", "data: " + answer + "\n\ndata: " + openAIRate + "\n\n", 200, "", transport.OK},
		{"answer that says error", "data: " + answer + "\n\n", 200, "", transport.OK},
		{"not json", "event: error\ndata: rate_limit\n\n", 200, "", transport.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var closes atomic.Int32
			base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
				h := http.Header{"Content-Type": {"text/event-stream"}, "X-Request-Id": {"req-1"}}
				body := io.NopCloser(strings.NewReader(tc.stream))
				return &http.Response{StatusCode: 200, Header: h, Body: countingBody{body, &closes}, ContentLength: -1, Request: req}, nil
			})
			req := mustRequest(t, "http://example.invalid/")
			resp, err := keepalive.New(keepalive.Config{}).Wrap(base).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if o := transport.Classify(resp, nil); o != tc.outcome {
				t.Errorf("outcome = %v, want %v", o, tc.outcome)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			wantCloses(t, &closes, 1)
			if tc.status == 200 {
				if want := strings.TrimPrefix(tc.stream, ": keep-alive\n\n"); string(got) != want {
					t.Errorf("body = %q, want %q", got, want)
				}
				return
			}
			if string(got) != tc.body {
				t.Errorf("body = %q, want %q", got, tc.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if resp.ContentLength != int64(len(tc.body)) || resp.Header.Get("X-Request-Id") != "req-1" || resp.Request != req {
				t.Errorf("response = %+v, want the length, the headers and the request", resp)
			}
		})
	}
}
