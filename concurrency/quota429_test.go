package concurrency_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/transport"
)

// A 429 that says the account is out of credit leaves the adaptive limit
// where it was; a 429 that paces lowers it.
func TestQuota429LeavesLimit(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		lowered    bool
	}{
		{"out of credit", `{"error":{"type":"insufficient_quota","code":"insufficient_quota"}}`, false},
		{"rate limit", `{"error":{"type":"requests","code":"rate_limit_exceeded"}}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Content-Type": {"application/json"}},
					Body: io.NopCloser(strings.NewReader(tc.body)), Request: req}, nil
			})
			g := concurrency.New(concurrency.Config{})
			rt := g.Wrap(base)
			for range 3 {
				req, _ := http.NewRequest(http.MethodPost, "http://api.example.test/v1/chat/completions", strings.NewReader(`{"model":"m"}`))
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != tc.body {
					t.Fatalf("body %q, want the server's intact", body)
				}
			}
			keys := g.Stats().Keys
			if len(keys) != 1 {
				t.Fatalf("keys %+v", keys)
			}
			if lowered := keys[0].Limit < concurrency.DefaultInitialLimit; lowered != tc.lowered {
				t.Errorf("limit %d after three 429s; lowered %v, want %v", keys[0].Limit, lowered, tc.lowered)
			}
		})
	}
}
