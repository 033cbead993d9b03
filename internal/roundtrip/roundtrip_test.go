package roundtrip_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pacerhttp/pacer/internal/roundtrip"
)

func TestBaseNil(t *testing.T) {
	if rt := roundtrip.Base(nil); rt != http.DefaultTransport {
		t.Fatalf("Base(nil) = %v, want http.DefaultTransport", rt)
	}
}

type idleCounter struct {
	http.RoundTripper
	n int
}

func (c *idleCounter) CloseIdleConnections() { c.n++ }

type plain struct{ http.RoundTripper }

func TestCloseIdleConnectionsForwards(t *testing.T) {
	c := &idleCounter{}
	roundtrip.CloseIdleConnections(c)
	roundtrip.CloseIdleConnections(plain{}) // no method: no panic
	if c.n != 1 {
		t.Fatalf("CloseIdleConnections calls = %d, want 1", c.n)
	}
}

type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestDo(t *testing.T) {
	req := httptest.NewRequest("GET", "http://example.com/", nil)
	boom := errors.New("boom")

	if _, err := roundtrip.Do(rtFunc(func(*http.Request) (*http.Response, error) { return nil, nil }), req); !errors.Is(err, roundtrip.ErrNilResponse) {
		t.Fatalf("(nil, nil): err = %v, want ErrNilResponse", err)
	}

	body := &closeCounter{Reader: strings.NewReader("x")}
	resp, err := roundtrip.Do(rtFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: body}, boom
	}), req)
	if resp != nil || !errors.Is(err, boom) || body.closed != 1 {
		t.Fatalf("(resp, err): got %v, %v, closes %d; want nil, boom, 1", resp, err, body.closed)
	}

	resp, err = roundtrip.Do(rtFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 204}, nil
	}), req)
	if err != nil || resp.Body != http.NoBody {
		t.Fatalf("nil Body: got %v, %v; want http.NoBody", resp.Body, err)
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
