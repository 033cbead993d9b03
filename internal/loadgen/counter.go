package loadgen

import (
	"io"
	"net/http"
	"sync/atomic"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
)

// Counter is an [http.RoundTripper] that counts every attempt it sends and
// how each one ended, and every response body it hands out and how many of
// those were closed. Put it at the base of a client's transport stack. It is
// safe for concurrent use; its counts may be read at any time.
type Counter struct {
	// Base is the transport attempts are sent through; nil means
	// [http.DefaultTransport].
	Base http.RoundTripper

	// MaxAttempts, when positive, is a hard cap: attempt number MaxAttempts+1
	// and later fail with [ErrCapReached] without being sent.
	MaxAttempts int64

	attempts    atomic.Int64
	inFlight    atomic.Int64
	rateLimited atomic.Int64
	overloaded  atomic.Int64
	otherStatus atomic.Int64
	netErrors   atomic.Int64
	bodies      atomic.Int64
	closed      atomic.Int64
}

// CounterStats is a snapshot of a [Counter].
type CounterStats struct {
	Attempts    int64 // attempts sent
	InFlight    int64 // attempts sent whose response body is not yet done
	RateLimited int64 // 429 responses
	Overloaded  int64 // 503 and 529 responses
	OtherStatus int64 // other responses of 400 and above
	NetErrors   int64 // attempts that ended in an error without a response
	Bodies      int64 // response bodies handed out
	Closed      int64 // of those, bodies that were closed
}

// RoundTrip sends req through Base and counts it.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	if n := c.attempts.Add(1); c.MaxAttempts > 0 && n > c.MaxAttempts {
		c.attempts.Add(-1)
		httpbody.CloseRequest(req)
		return nil, ErrCapReached
	}
	c.inFlight.Add(1)
	resp, err := roundtrip.Base(c.Base).RoundTrip(req)
	if err != nil {
		c.inFlight.Add(-1)
		c.netErrors.Add(1)
		return nil, err
	}
	switch transport.ClassifyStatus(resp.StatusCode) {
	case transport.OK:
	case transport.RateLimited:
		c.rateLimited.Add(1)
	case transport.Overloaded:
		c.overloaded.Add(1)
	default:
		c.otherStatus.Add(1)
	}
	c.bodies.Add(1)
	resp.Body = &countedBody{ReadCloser: httpbody.OnDone(resp.Body, func(error) { c.inFlight.Add(-1) }), c: c}
	return resp, nil
}

// CloseIdleConnections forwards to Base.
func (c *Counter) CloseIdleConnections() { roundtrip.CloseIdleConnections(roundtrip.Base(c.Base)) }

// Stats returns the counts so far.
func (c *Counter) Stats() CounterStats {
	return CounterStats{
		Attempts:    c.attempts.Load(),
		InFlight:    c.inFlight.Load(),
		RateLimited: c.rateLimited.Load(),
		Overloaded:  c.overloaded.Load(),
		OtherStatus: c.otherStatus.Load(),
		NetErrors:   c.netErrors.Load(),
		Bodies:      c.bodies.Load(),
		Closed:      c.closed.Load(),
	}
}

type countedBody struct {
	io.ReadCloser
	c      *Counter
	closed atomic.Bool
}

func (b *countedBody) Close() error {
	if b.closed.CompareAndSwap(false, true) {
		b.c.closed.Add(1)
	}
	return b.ReadCloser.Close()
}
