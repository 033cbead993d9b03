package transport_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/transport"
)

func tag(name string, trace *[]string) transport.Middleware {
	return func(next http.RoundTripper) http.RoundTripper {
		return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			*trace = append(*trace, name)
			return next.RoundTrip(req)
		})
	}
}

func TestChainOrder(t *testing.T) {
	var trace []string
	base := transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		trace = append(trace, "base")
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	})
	rt := transport.Chain(base, tag("a", &trace), nil, tag("b", &trace), tag("c", &trace))
	req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := strings.Join(trace, ","), "a,b,c,base"; got != want {
		t.Fatalf("order = %s, want %s", got, want)
	}
}

func TestChainNilBase(t *testing.T) {
	if rt := transport.Chain(nil); rt != http.DefaultTransport {
		t.Fatalf("Chain(nil) = %v, want http.DefaultTransport", rt)
	}
}
