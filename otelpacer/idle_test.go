package otelpacer

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/transport"
	gotel "go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// With no SDK, the layers cost nothing: no span is started, no instrument
// asked, nothing allocated, the request and response passed through.
func TestIdleProvidersAllocateNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"global", Config{}},
		{"global given", Config{TracerProvider: gotel.GetTracerProvider(), MeterProvider: gotel.GetMeterProvider()}},
		{"noop", Config{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := New(tc.cfg)
			body := io.NopCloser(strings.NewReader("{}"))
			resp := &http.Response{StatusCode: 200, Body: body, Header: http.Header{"Content-Type": {"application/json"}}}
			var got *http.Request
			base := transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
				got = r
				return resp, nil
			})
			rt := transport.Chain(base, tel.Wrap, tel.WrapAttempt)
			req := newChatRequest(t, "http://127.0.0.1:1", `{"model":"m"}`)
			allocs := testing.AllocsPerRun(100, func() {
				r, err := rt.RoundTrip(req)
				if err != nil || r != resp || r.Body != body || got != req {
					t.Fatal("the request or the response was not passed through")
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per request, want 0", allocs)
			}
		})
	}
}

// A provider of any other kind decides for itself: an SDK is never taken
// for idle, even when New runs before it is used.
func TestIdlenessOfProviders(t *testing.T) {
	s := newSDK(t)
	for _, tc := range []struct {
		name                   string
		cfg                    Config
		tracerIdle, meterIdle  bool
		wantGlobalT, wantGlobM bool
	}{
		{"global", Config{}, true, true, true, true},
		{"noop", Config{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()}, true, true, false, false},
		{"sdk", Config{TracerProvider: s.tp, MeterProvider: s.mp}, false, false, false, false},
		{"sdk tracer only", Config{TracerProvider: s.tp}, false, true, false, true},
		{"sdk meter only", Config{MeterProvider: s.mp}, true, false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := New(tc.cfg)
			if got := tel.idle.tracer(); got != tc.tracerIdle {
				t.Errorf("tracer idle = %v, want %v", got, tc.tracerIdle)
			}
			if got := tel.idle.meter(); got != tc.meterIdle {
				t.Errorf("meter idle = %v, want %v", got, tc.meterIdle)
			}
			if got := tel.idle.globalTracer != nil; got != tc.wantGlobalT {
				t.Errorf("global tracer provider seen = %v, want %v", got, tc.wantGlobalT)
			}
			if got := tel.idle.globalMeter != nil; got != tc.wantGlobM {
				t.Errorf("global meter provider seen = %v, want %v", got, tc.wantGlobM)
			}
		})
	}
	if isGlobal(nil) || isGlobal(s.tp) || !isGlobal(gotel.GetTracerProvider()) || !isGlobal(gotel.GetMeterProvider()) {
		t.Error("isGlobal misjudges a provider")
	}
}

// childEnv marks the process that runs a test needing the global providers
// for itself: installing an SDK globally cannot be undone.
const childEnv = "PACER_OTEL_TEST_CHILD"

// runInChild runs the calling test alone in a fresh test process and
// reports whether the caller is that process.
func runInChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("child test process did not run the test:\n%s", out)
	}
	return false
}

// An SDK installed globally after New is used from the next request on,
// for traces and metrics independently, as the global providers promise.
func TestGlobalSDKInstalledAfterNew(t *testing.T) {
	if !runInChild(t) {
		return
	}
	tel := New(Config{})
	base := transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		httpbody.CloseRequest(r)
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"model":"m","usage":{"prompt_tokens":1,"completion_tokens":2}}`)), Request: r}, nil
	})
	rt := transport.Chain(base, tel.Wrap, tel.WrapAttempt)
	send := func() (passedThrough bool) {
		t.Helper()
		req := newChatRequest(t, "http://127.0.0.1:1", `{"model":"m"}`)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.Request == req
	}
	if !send() {
		t.Fatal("without an SDK the request was not passed through")
	}

	s := newSDK(t)
	gotel.SetTracerProvider(s.tp)
	if send() {
		t.Fatal("with a global tracer provider the request was passed through")
	}
	spans := s.spans.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans ended after the tracer provider was installed, want 2", len(spans))
	}
	if rm := s.metrics(t); len(rm.ScopeMetrics) != 0 {
		t.Errorf("metrics recorded through the global meter provider before it was installed: %v", rm.ScopeMetrics)
	}

	gotel.SetMeterProvider(s.mp)
	send()
	if n := len(s.spans.Ended()); n != 4 {
		t.Errorf("%d spans ended in all, want 4", n)
	}
	rm := s.metrics(t)
	if got := sumBy(t, findMetric(t, rm, "pacer.requests"), attrOutcome); got["ok"] != 1 {
		t.Errorf("pacer.requests = %v, want one ok", got)
	}
	if got := sumBy(t, findMetric(t, rm, "pacer.attempts"), attrOutcome); got["ok"] != 1 {
		t.Errorf("pacer.attempts = %v, want one ok", got)
	}
}
