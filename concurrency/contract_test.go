package concurrency_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/internal/roundtrip/contracttest"
)

// TestContract checks the gate over bases that break the RoundTripper
// contract, and that each edge leaves no permit held.
func TestContract(t *testing.T) {
	g := concurrency.New(concurrency.Config{Limits: concurrency.Limits{Limit: 1}})
	contracttest.Check(t, g.Wrap, func(t *testing.T) *http.Request {
		req, err := http.NewRequest(http.MethodPost, "http://api.test/v1/chat/completions", strings.NewReader(`{"model":"m"}`))
		if err != nil {
			t.Fatal(err)
		}
		return req
	}, func(t *testing.T, edge string) {
		if n := g.Stats().InFlight; n != 0 {
			t.Errorf("%d in flight after the %s edge, want 0", n, edge)
		}
	})
}
