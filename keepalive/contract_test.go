package keepalive_test

import (
	"net/http"
	"testing"

	"github.com/pacerhttp/pacer/internal/roundtrip/contracttest"
	"github.com/pacerhttp/pacer/keepalive"
)

// TestContract checks the filter over bases that break the RoundTripper
// contract.
func TestContract(t *testing.T) {
	contracttest.Check(t, keepalive.New(keepalive.Config{}).Wrap, func(t *testing.T) *http.Request {
		return mustRequest(t, "http://api.test/v1/chat/completions")
	}, nil)
}
