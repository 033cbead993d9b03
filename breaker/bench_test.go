package breaker_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/transport"
)

const benchBody = `{"id":"x","object":"chat.completion","choices":[]}`

// stub answers 200 from memory, so the pair measures the breaker alone.
var stub = transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(benchBody)), Request: req}, nil
})

func roundTrip(b *testing.B, rt http.RoundTripper, req *http.Request) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// BenchmarkClosed measures the success path of a closed breaker against the
// bare transport it wraps, in memory and over loopback.
func BenchmarkClosed(b *testing.B) {
	req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1/models", nil)
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"stub/bare", stub},
		{"stub/breaker", breaker.New(breaker.Config{}).Wrap(stub)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				roundTrip(b, tc.rt, req)
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					roundTrip(b, tc.rt, req)
				}
			})
		})
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, benchBody)
	}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	lreq, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/models", nil)
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"loopback/bare", base},
		{"loopback/breaker", breaker.New(breaker.Config{}).Wrap(base)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				roundTrip(b, tc.rt, lreq)
			}
		})
	}
}
