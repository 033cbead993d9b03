package roundtrip_test

import (
	"net/http"
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
