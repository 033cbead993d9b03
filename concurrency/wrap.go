package concurrency

import (
	"errors"
	"net/http"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// errNoResponse is returned when the transport under the gate breaks the
// RoundTripper contract by returning neither a response nor an error.
var errNoResponse = errors.New("concurrency: transport returned neither a response nor an error")

// Wrap returns a transport that sends each request through base once the
// gate admits it (a nil base means [http.DefaultTransport]). A request
// waits in its key's queue while the key is at its limit; it fails without
// being sent, its body closed, when the queue is full ([ErrQueueFull]), the
// wait is too long ([ErrQueueTimeout]) or its context ends. The permit is
// held until the response body reaches EOF, fails or is closed, so a
// stream counts as in flight for as long as it is read; the body returned
// is a wrapper that keeps the body's Close (and Write, on a 101) semantics.
// The permit is returned exactly once on every path: an error or a panic
// in base, a cancelled context, a body closed unread.
//
// The gate writes the time spent queued and the key into the request's
// [transport.Record] (making one for the attempt when the context carries
// none), and reads the schedule wait that the layers under it add, to learn
// that the server is queueing. It does not modify the caller's request.
func (g *Gate) Wrap(base http.RoundTripper) http.RoundTripper {
	return &gateTransport{g: g, base: transport.Base(base)}
}

type gateTransport struct {
	g    *Gate
	base http.RoundTripper
}

// CloseIdleConnections forwards to the base transport.
func (t *gateTransport) CloseIdleConnections() { transport.CloseIdleConnections(t.base) }

// RoundTrip implements [http.RoundTripper].
func (t *gateTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	g := t.g
	key := g.key(req)
	req, rec := transport.EnsureRecord(req)
	ctx := req.Context()

	start := g.now()
	pm, admitted, err := g.acquire(ctx, key)
	var wait time.Duration
	if err == nil {
		wait = admitted.Sub(start)
	} else {
		wait = g.now().Sub(start)
	}
	var sw0 time.Duration
	rec.Update(func(f *transport.Facts) {
		f.GateWait += wait
		f.GateKey = key
		sw0 = f.ScheduleWait
	})
	if err != nil {
		transport.CloseRequestBody(req)
		return nil, err
	}

	release := func(o transport.Outcome, latency time.Duration) {
		var sw time.Duration
		rec.Update(func(f *transport.Facts) { sw = f.ScheduleWait - sw0 })
		g.finish(pm, o, admitted, latency, sw)
	}

	returned := false
	defer func() {
		if !returned {
			// base panicked: release, and let the panic go on.
			release(transport.NetworkError, 0)
		}
	}()
	resp, err = t.base.RoundTrip(req)
	returned = true
	latency := g.now().Sub(admitted)

	if err != nil {
		transport.DiscardResponse(resp)
		release(transport.Classify(nil, err), latency)
		return nil, err
	}
	if resp == nil {
		release(transport.NetworkError, latency)
		return nil, errNoResponse
	}
	outcome := transport.ClassifyStatus(resp.StatusCode)
	resp.Body = transport.OnBodyDone(resp.Body, func(error) { release(outcome, latency) })
	return resp, nil
}
