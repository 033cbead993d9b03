package concurrency_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/transport"
)

// An uncontended attempt whose request already carries a record (retry or
// telemetry above the gate made it) costs the gate one allocation: the body
// wrapper, which holds the attempt it releases the permit with.
func TestWrapAllocations(t *testing.T) {
	g := concurrency.New(concurrency.Config{})
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: eofBody{}}
	rt := g.Wrap(transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return resp, nil }))
	req, err := http.NewRequest(http.MethodGet, "http://api.example.test/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ = transport.EnsureRecord(req)
	allocs := testing.AllocsPerRun(100, func() {
		resp.Body = eofBody{}
		r, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Body.Close()
	})
	if allocs > 1 {
		t.Errorf("%v allocations per attempt, want at most 1", allocs)
	}
	if s := g.Stats(); s.InFlight != 0 {
		t.Errorf("%d in flight after every body was closed", s.InFlight)
	}
}

// eofBody is an empty response body that costs no allocation.
type eofBody struct{}

func (eofBody) Read([]byte) (int, error) { return 0, io.EOF }
func (eofBody) Close() error             { return nil }
