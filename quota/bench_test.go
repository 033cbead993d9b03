package quota

import (
	"net/http"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// BenchmarkNoHeaders measures the layer on a server that sends no
// rate-limit headers, beside the bare transport it wraps.
func BenchmarkNoHeaders(b *testing.B) {
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}, "Content-Length": {"42"}, "Date": {"Fri, 04 Dec 2026 12:00:00 GMT"}}, Body: http.NoBody}
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return resp, nil })
	req := chat(b, "m", 16)
	run := func(b *testing.B, rt http.RoundTripper) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = rt.RoundTrip(req)
			}
		})
	}
	b.Run("bare", func(b *testing.B) { run(b, base) })
	b.Run("quota", func(b *testing.B) {
		rt := New(Config{}).Wrap(base)
		for range quietAfter {
			_, _ = rt.RoundTrip(req)
		}
		b.ResetTimer()
		run(b, rt)
	})
	b.Run("quota/new-host", func(b *testing.B) {
		// A host that has not yet answered enough to be taken as quiet:
		// every response's headers are looked at.
		q := New(Config{})
		rt := q.Wrap(base)
		_, _ = rt.RoundTrip(req)
		hs := q.hostOf(req)
		b.ReportAllocs()
		for b.Loop() {
			hs.quiet.Store(0)
			_, _ = rt.RoundTrip(req)
		}
	})
}

// BenchmarkAnnounced measures a request whose key has a budget: scan,
// reservation, report (and the building of the request, in the loop).
func BenchmarkAnnounced(b *testing.B) {
	base := transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
		return announce(1<<40, 1<<40, time.Minute), nil
	})
	rt := New(Config{}).Wrap(base)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = rt.RoundTrip(chat(b, "m", 16))
	}
}
