package concurrency_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/transport"
)

// An uncontended attempt costs the gate one allocation, with or without a
// record in the request: the body wrapper, which holds the attempt it
// releases the permit with.
func TestWrapAllocations(t *testing.T) {
	for _, recorded := range []bool{false, true} {
		wrapAllocations(t, recorded)
	}
}

func wrapAllocations(t *testing.T, recorded bool) {
	g := concurrency.New(concurrency.Config{})
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: eofBody{}}
	rt := g.Wrap(transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return resp, nil }))
	req, err := http.NewRequest(http.MethodGet, "http://api.example.test/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if recorded {
		req, _ = transport.EnsureRecord(req)
	}
	allocs := testing.AllocsPerRun(100, func() {
		resp.Body = eofBody{}
		r, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Body.Close()
	})
	if allocs > 1 {
		t.Errorf("recorded %v: %v allocations per attempt, want at most 1", recorded, allocs)
	}
	if s := g.Stats(); s.InFlight != 0 {
		t.Errorf("%d in flight after every body was closed", s.InFlight)
	}
}

// eofBody is an empty response body that costs no allocation.
type eofBody struct{}

func (eofBody) Read([]byte) (int, error) { return 0, io.EOF }
func (eofBody) Close() error             { return nil }
