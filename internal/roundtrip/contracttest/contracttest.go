// Package contracttest checks a layer against bases that break the
// [http.RoundTripper] contract: each layer must hand on what
// [roundtrip.Do] makes of them, as net/http's Client would accept.
package contracttest

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pacerhttp/pacer/internal/roundtrip"
)

// ErrBase is the error of the base that returns a response beside it.
var ErrBase = errors.New("contracttest: base failed")

// Edges are the ways a base breaks the contract, by name.
var Edges = []string{"nil-nil", "response-and-error", "nil-body"}

// Check runs the layer that wrap builds over a base for each of [Edges],
// with a request from newRequest, and checks what the layer returns: for
// (nil, nil), no response and [roundtrip.ErrNilResponse]; for a response
// beside an error, no response, that error, and the response's body
// closed once; for a response with a nil Body, the response with a body.
// after, when set, is called at the end of each edge's subtest, for what
// the layer itself must have let go.
func Check(t *testing.T, wrap func(base http.RoundTripper) http.RoundTripper, newRequest func(t *testing.T) *http.Request, after func(t *testing.T, edge string)) {
	t.Helper()
	for _, edge := range Edges {
		t.Run(edge, func(t *testing.T) {
			var closes atomic.Int32
			base := baseFunc(func(*http.Request) (*http.Response, error) {
				switch edge {
				case "nil-nil":
					return nil, nil
				case "response-and-error":
					body := &countedBody{Reader: strings.NewReader("dropped"), closes: &closes}
					return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{}, Body: body}, ErrBase
				default:
					return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}}, nil
				}
			})
			resp, err := wrap(base).RoundTrip(newRequest(t))
			switch edge {
			case "nil-nil":
				if resp != nil || !errors.Is(err, roundtrip.ErrNilResponse) {
					t.Errorf("got %v, %v; want no response and ErrNilResponse", resp, err)
				}
			case "response-and-error":
				if resp != nil || !errors.Is(err, ErrBase) {
					t.Errorf("got %v, %v; want no response and the base's error", resp, err)
				}
				if n := closes.Load(); n != 1 {
					t.Errorf("the dropped response's body was closed %d times, want 1", n)
				}
			default:
				if err != nil || resp == nil || resp.Body == nil {
					t.Fatalf("got %v, %v; want the response with a body", resp, err)
				}
				if _, err := io.ReadAll(resp.Body); err != nil {
					t.Errorf("reading the body: %v", err)
				}
				_ = resp.Body.Close()
			}
			if after != nil {
				after(t, edge)
			}
		})
	}
}

type baseFunc func(*http.Request) (*http.Response, error)

func (f baseFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type countedBody struct {
	io.Reader
	closes *atomic.Int32
}

func (b *countedBody) Close() error { b.closes.Add(1); return nil }
