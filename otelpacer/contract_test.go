package otelpacer

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
)

// TestContractEdges drives each layer, with an SDK recording, over bases
// that break the RoundTripper contract: each layer must return what
// net/http's Client would accept, close a response returned beside an
// error, and end its span.
func TestContractEdges(t *testing.T) {
	errBase := errors.New("base failed")
	layers := []struct {
		name string
		wrap func(*Telemetry, http.RoundTripper) http.RoundTripper
	}{
		{"logical", func(tel *Telemetry, rt http.RoundTripper) http.RoundTripper { return tel.Wrap(rt) }},
		{"attempt", func(tel *Telemetry, rt http.RoundTripper) http.RoundTripper { return tel.WrapAttempt(rt) }},
		{"both", func(tel *Telemetry, rt http.RoundTripper) http.RoundTripper {
			return transport.Chain(rt, tel.Wrap, tel.WrapAttempt)
		}},
	}
	for _, l := range layers {
		t.Run(l.name+"/nil-nil", func(t *testing.T) {
			s := newSDK(t)
			rt := l.wrap(s.telemetry(Config{}), transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
				return nil, nil
			}))
			req, _ := http.NewRequest(http.MethodPost, "http://api.example/v1/chat/completions", strings.NewReader(`{"model":"m"}`))
			resp, err := rt.RoundTrip(req)
			if resp != nil || !errors.Is(err, roundtrip.ErrNilResponse) {
				t.Fatalf("got %v, %v; want nil, ErrNilResponse", resp, err)
			}
			if n := len(s.spans.Ended()); n == 0 {
				t.Error("no span ended")
			}
		})
		t.Run(l.name+"/response-and-error", func(t *testing.T) {
			s := newSDK(t)
			closes := 0
			body := &countingBody{Reader: strings.NewReader("leaked"), closes: &closes}
			rt := l.wrap(s.telemetry(Config{}), transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 502, Body: body, Header: http.Header{}}, errBase
			}))
			req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1/models", nil)
			resp, err := rt.RoundTrip(req)
			if resp != nil || !errors.Is(err, errBase) {
				t.Fatalf("got %v, %v; want nil, the base's error", resp, err)
			}
			if n := closes; n != 1 {
				t.Errorf("body closed %d times, want 1", n)
			}
			if n := len(s.spans.Ended()); n == 0 {
				t.Error("no span ended")
			}
		})
		t.Run(l.name+"/nil-body", func(t *testing.T) {
			s := newSDK(t)
			rt := l.wrap(s.telemetry(Config{}), transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 204, Header: http.Header{}}, nil
			}))
			req, _ := http.NewRequest(http.MethodGet, "http://api.example/v1/models", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Body == nil {
				t.Fatal("nil Body returned")
			}
			_ = resp.Body.Close()
			if n := len(s.spans.Ended()); n == 0 {
				t.Error("no span ended")
			}
		})
	}
}
