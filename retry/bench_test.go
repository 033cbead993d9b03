package retry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkOverhead measures the success path on loopback: a bare
// transport, and the same transport wrapped by a Retrier.
func BenchmarkOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	base := &http.Transport{MaxIdleConnsPerHost: 4}
	defer base.CloseIdleConnections()
	run := func(b *testing.B, rt http.RoundTripper) {
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.Run("Bare", func(b *testing.B) { run(b, base) })
	b.Run("Retry", func(b *testing.B) { run(b, New(Config{}).Wrap(base)) })
}
