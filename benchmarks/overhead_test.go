package benchmarks

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	retryablehttp "github.com/hashicorp/go-retryablehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/otelpacer"
	"github.com/pacerhttp/pacer/quota"
	"github.com/pacerhttp/pacer/retry"
	"github.com/pacerhttp/pacer/transport"
)

// overheadRequest and overheadAnswer are a small chat completion request and
// answer, the shape every contender carries in BenchmarkOverhead.
var (
	overheadRequest = []byte(`{"model":"deepseek-chat","messages":[{"role":"user","content":"Say hello."}]}`)
	overheadAnswer  = []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"deepseek-chat",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`)
)

// overheadContenders are the transports compared by BenchmarkOverhead, each
// built over the same base: the bare base, each pacer layer alone, the full
// stack, the two peers with a retry policy, and a yardstick that only burns
// 2µs of CPU.
var overheadContenders = []struct {
	name string
	wrap func(base http.RoundTripper) http.RoundTripper
}{
	{"bare", func(base http.RoundTripper) http.RoundTripper { return base }},
	{"retry", func(base http.RoundTripper) http.RoundTripper { return retry.New(retry.Config{}).Wrap(base) }},
	{"breaker", func(base http.RoundTripper) http.RoundTripper { return breaker.New(breaker.Config{}).Wrap(base) }},
	{"gate", func(base http.RoundTripper) http.RoundTripper {
		return concurrency.New(concurrency.Config{}).Wrap(base)
	}},
	// The gate keyed by host alone, as it was before it keyed by model: what
	// reading the model from the body costs is gate minus this.
	{"gate-by-host", func(base http.RoundTripper) http.RoundTripper {
		return concurrency.New(concurrency.Config{Key: concurrency.HostKey}).Wrap(base)
	}},
	{"keepalive", func(base http.RoundTripper) http.RoundTripper { return keepalive.New(keepalive.Config{}).Wrap(base) }},
	{"keepalive-without-idle", func(base http.RoundTripper) http.RoundTripper {
		return keepalive.New(keepalive.Config{IdleTimeout: -1}).Wrap(base)
	}},
	{"quota", func(base http.RoundTripper) http.RoundTripper { return quota.New(quota.Config{}).Wrap(base) }},
	{"otel", func(base http.RoundTripper) http.RoundTripper {
		t := otelpacer.New(otelpacer.Config{})
		return transport.Chain(base, t.Wrap, t.WrapAttempt)
	}},
	{"otel-recording", func(base http.RoundTripper) http.RoundTripper {
		t := otelpacer.New(otelpacer.Config{
			TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample())),
			MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
		})
		return transport.Chain(base, t.Wrap, t.WrapAttempt)
	}},
	{"pacer", func(base http.RoundTripper) http.RoundTripper { return pacer.New(pacer.Config{Base: base}) }},
	// The stack with only what it did before it keyed the gate by model,
	// bounded the idle time of a started response and paced quotas: the
	// cost of those three is pacer minus this.
	{"pacer-as-before", func(base http.RoundTripper) http.RoundTripper {
		return pacer.New(pacer.Config{
			Base:      base,
			Gate:      concurrency.Config{Key: concurrency.HostKey},
			KeepAlive: keepalive.Config{IdleTimeout: -1},
			Without:   pacer.LayerQuota,
		})
	}},
	{"pacer-without-telemetry", func(base http.RoundTripper) http.RoundTripper {
		return pacer.New(pacer.Config{Base: base, Without: pacer.LayerTelemetry})
	}},
	{"go-retryablehttp", func(base http.RoundTripper) http.RoundTripper {
		c := retryablehttp.NewClient()
		c.Logger = nil
		c.HTTPClient = &http.Client{Transport: base}
		return &retryablehttp.RoundTripper{Client: c}
	}},
	{"failsafehttp", func(base http.RoundTripper) http.RoundTripper {
		return failsafehttp.NewRoundTripper(base, failsafehttp.NewRetryPolicyBuilder().Build())
	}},
	// A yardstick: a wrapper that costs 2µs of CPU and does nothing else,
	// to read the other rows against, on loopback above all.
	{"spin-2µs", func(base http.RoundTripper) http.RoundTripper {
		return transport.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			for start := time.Now(); time.Since(start) < 2*time.Microsecond; {
			}
			return base.RoundTrip(req)
		})
	}},
}

// BenchmarkOverhead measures the cost per request of each contender on the
// success path, in one run:
//
//   - loopback: a real http.Transport to an httptest server on 127.0.0.1,
//     what a request costs end to end (the network stack dominates);
//   - memory: a base transport that answers from memory, which takes the
//     network out so that what remains is the layers' own cost. The
//     difference between a contender and "bare" here is its overhead.
//
// Each request is a POST with a replayable body; each answer is read to EOF
// and closed.
func BenchmarkOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(overheadAnswer)))
		_, _ = w.Write(overheadAnswer)
	}))
	defer srv.Close()
	loop := http.DefaultTransport.(*http.Transport).Clone()
	loop.MaxIdleConnsPerHost = 64
	defer loop.CloseIdleConnections()

	bases := []struct {
		name string
		rt   http.RoundTripper
		url  string
	}{
		{"loopback", loop, srv.URL + "/v1/chat/completions"},
		{"memory", memoryTransport{}, "http://api.example.test/v1/chat/completions"},
	}
	for _, base := range bases {
		b.Run(base.name, func(b *testing.B) {
			for _, c := range overheadContenders {
				rt := c.wrap(base.rt)
				b.Run(c.name, func(b *testing.B) {
					benchRoundTrips(b, rt, base.url)
				})
				if cl, ok := rt.(interface{ Close() error }); ok {
					_ = cl.Close()
				}
			}
		})
	}
}

func benchRoundTrips(b *testing.B, rt http.RoundTripper, url string) {
	b.ReportAllocs()
	for b.Loop() {
		roundTripOnce(b, rt, url)
	}
}

// roundTripOnce sends one chat request through rt and reads the answer to
// EOF, as an SDK does.
func roundTripOnce(b *testing.B, rt http.RoundTripper, url string) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(overheadRequest))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// memoryTransport answers every request with overheadAnswer without any I/O.
// Like http.Transport it closes the request body and hands out a fresh
// response, header and body each time.
type memoryTransport struct{}

func (memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(overheadAnswer))}},
		Body:          io.NopCloser(bytes.NewReader(overheadAnswer)),
		ContentLength: int64(len(overheadAnswer)),
		Request:       req,
	}, nil
}

// BenchmarkPairedOverhead measures what each contender adds to a request
// on a machine whose speed drifts while it runs (shared cores, other
// tenants), which BenchmarkOverhead, timing one contender after another,
// cannot tell from the contenders' own cost. Each iteration sends a batch
// of requests through the bare memory base and a batch through the
// contender over the same base, back to back, in an order that alternates;
// the metrics are medians over the iterations of each side's time per
// request and of the difference within each pair, so that a slow spell of
// the machine falls on both sides of a pair. Allocation costs, the
// collector's included, fall inside the batches.
func BenchmarkPairedOverhead(b *testing.B) {
	for _, c := range overheadContenders {
		if c.name == "bare" {
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			pairedOverhead(b, c.wrap(memoryTransport{}))
		})
	}
}

func pairedOverhead(b *testing.B, rt http.RoundTripper) {
	const batch = 2000
	url := "http://api.example.test/v1/chat/completions"
	bare := http.RoundTripper(memoryTransport{})
	timeBatch := func(rt http.RoundTripper) float64 {
		start := time.Now()
		for range batch {
			roundTripOnce(b, rt, url)
		}
		return float64(time.Since(start).Nanoseconds()) / batch
	}
	var bareNs, withNs, added []float64
	first := true
	for b.Loop() {
		var x, y float64
		if first {
			x = timeBatch(bare)
			y = timeBatch(rt)
		} else {
			y = timeBatch(rt)
			x = timeBatch(bare)
		}
		first = !first
		bareNs, withNs, added = append(bareNs, x), append(withNs, y), append(added, y-x)
	}
	b.ReportMetric(median(bareNs), "bare-ns/req")
	b.ReportMetric(median(withNs), "with-ns/req")
	b.ReportMetric(median(added), "added-ns/req")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
