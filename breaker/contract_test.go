package breaker_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/internal/roundtrip/contracttest"
	"github.com/pacerhttp/pacer/transport"
)

// TestContract checks the breaker over bases that break the RoundTripper
// contract, on the path of a closed circuit and on that of the fallback an
// open one sends to.
func TestContract(t *testing.T) {
	newRequest := func(t *testing.T) *http.Request {
		req, err := http.NewRequest(http.MethodGet, "http://api.test/v1/models", nil)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	t.Run("closed", func(t *testing.T) {
		contracttest.Check(t, breaker.New(breaker.Config{}).Wrap, newRequest, nil)
	})
	t.Run("fallback", func(t *testing.T) {
		contracttest.Check(t, func(fallback http.RoundTripper) http.RoundTripper {
			b := breaker.New(breaker.Config{MinRequests: 1, FailureRate: 0.5, Delay: time.Hour, Fallback: fallback})
			rt := b.Wrap(transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusInternalServerError, Header: http.Header{}, Body: http.NoBody}, nil
			}))
			// One failure opens the circuit: what follows goes to the fallback.
			if resp, err := rt.RoundTrip(newRequest(t)); err == nil {
				resp.Body.Close()
			}
			if st := b.State(); st != breaker.Open {
				t.Fatalf("state %v after a failure, want open", st)
			}
			return rt
		}, newRequest, nil)
	})
}
