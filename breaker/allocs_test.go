package breaker_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/transport"
)

// A request admitted by a closed circuit costs the breaker one allocation:
// the body wrapper that settles it.
func TestWrapAllocations(t *testing.T) {
	b := breaker.New(breaker.Config{})
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: eofBody{}}
	rt := b.Wrap(transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return resp, nil }))
	req, err := http.NewRequest(http.MethodGet, "http://api.example.test/", nil)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		resp.Body = eofBody{}
		r, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	})
	if allocs > 1 {
		t.Errorf("%v allocations per request, want at most 1", allocs)
	}
	if s := b.State(); s != breaker.Closed {
		t.Errorf("state %v after successes, want closed", s)
	}
}

// eofBody is an empty response body that costs no allocation.
type eofBody struct{}

func (eofBody) Read([]byte) (int, error) { return 0, io.EOF }
func (eofBody) Close() error             { return nil }
