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
	var sw time.Duration
	rec.Update(func(f *transport.Facts) {
		f.GateWait += wait
		f.GateKey = key
		sw = f.ScheduleWait
	})
	if err != nil {
		transport.CloseRequestBody(req)
		return nil, err
	}
	at := attempt{g: g, pm: pm, rec: rec, admitted: admitted, scheduleWait0: sw}

	returned := false
	defer func() {
		if !returned {
			// base panicked: release, and let the panic go on.
			at.release(transport.NetworkError, 0)
		}
	}()
	resp, err = t.base.RoundTrip(req)
	returned = true
	at.latency = g.now().Sub(admitted)

	if err != nil {
		transport.DiscardResponse(resp)
		at.release(transport.Classify(nil, err), at.latency)
		return nil, err
	}
	if resp == nil {
		at.release(transport.NetworkError, at.latency)
		return nil, errNoResponse
	}
	at.outcome = transport.ClassifyStatus(resp.StatusCode)
	// The method value copies at: the one allocation this attempt's state
	// costs while its body is read.
	resp.Body = transport.OnBodyDone(resp.Body, at.bodyDone)
	return resp, nil
}

// attempt is what the gate keeps of one admitted attempt until it releases
// the permit.
type attempt struct {
	g             *Gate
	pm            Permit
	rec           *transport.Record
	admitted      time.Time
	scheduleWait0 time.Duration // the record's ScheduleWait at admission
	latency       time.Duration
	outcome       transport.Outcome
}

// bodyDone releases the permit when the response body is done, with the
// outcome of the response: the server admitted the request, whatever
// became of its body.
func (at attempt) bodyDone(error) { at.release(at.outcome, at.latency) }

// release returns the permit with the attempt's feedback; latency zero means
// the time the permit was held.
func (at *attempt) release(o transport.Outcome, latency time.Duration) {
	var sw time.Duration
	at.rec.Update(func(f *transport.Facts) { sw = f.ScheduleWait - at.scheduleWait0 })
	at.g.finish(at.pm, o, at.admitted, latency, sw)
}
