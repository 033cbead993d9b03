package retry

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/internal/roundtrip/contracttest"
)

// TestContract checks the retry layer, with one attempt, over bases that
// break the RoundTripper contract.
func TestContract(t *testing.T) {
	r, _ := newTestRetrier(Config{MaxAttempts: 1})
	contracttest.Check(t, r.Wrap, func(t *testing.T) *http.Request {
		req, err := http.NewRequest(http.MethodPost, "http://api.test/v1/chat/completions", strings.NewReader(`{"model":"m"}`))
		if err != nil {
			t.Fatal(err)
		}
		return req
	}, nil)
}
