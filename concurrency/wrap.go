package concurrency

import (
	"errors"
	"net/http"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
)

// Wrap returns a transport that sends each request through base once the
// gate admits it (a nil base means [http.DefaultTransport]). A request
// waits in its key's queue while the key is at its limit; it fails without
// being sent, its body closed, when the queue is full ([ErrQueueFull]), the
// wait is too long ([ErrQueueTimeout]) or its context ends (a
// [*QueueError] wrapping the context's error: errors.Is(err,
// context.Canceled) holds, and so does errors.Is(err,
// [transport.ErrRejected]), since nothing was sent). The permit is
// held until the response body reaches EOF, fails or is closed, so a
// stream counts as in flight for as long as it is read; the body returned
// is a wrapper that keeps the body's Close (and Write, on a 101) semantics.
// The permit is returned exactly once on every path: an error or a panic
// in base, a cancelled context, a body closed unread.
//
// The gate learns that the server is queueing from the schedule wait the
// response body reports (a ScheduleWait() time.Duration method: the keepalive layer
// under the gate reports it). It writes the time spent queued and the key
// into the request's [transport.Record] when the request carries one. It
// does not modify the caller's request.
func (g *Gate) Wrap(base http.RoundTripper) http.RoundTripper {
	return &gateTransport{g: g, base: roundtrip.Base(base)}
}

type gateTransport struct {
	g    *Gate
	base http.RoundTripper
}

// CloseIdleConnections forwards to the base transport.
func (t *gateTransport) CloseIdleConnections() { roundtrip.CloseIdleConnections(t.base) }

// RoundTrip implements [http.RoundTripper].
func (t *gateTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	g := t.g
	key := g.key(req)
	ctx := req.Context()
	rec := transport.RecordFrom(ctx)

	start := g.now()
	pm, err := g.lim.Acquire(ctx, key, transport.PriorityFrom(ctx))
	admitted := start
	if err != nil || !g.admittedAtOnce(pm) {
		// Only a wait, or a failure that may have ended one, moves the
		// clock on from start.
		admitted = g.now()
	}
	wait := admitted.Sub(start)
	rec.Update(func(f *transport.Facts) {
		f.GateWait += wait
		f.GateKey = key
	})
	if err != nil {
		httpbody.CloseRequest(req)
		if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) && !errors.Is(err, transport.ErrRejected) {
			// The context ended in the queue: the server never saw it.
			err = &QueueError{Err: err, Key: key}
		}
		return nil, err
	}
	at := attempt{pm: pm, admitted: admitted}

	returned := false
	defer func() {
		if !returned {
			// base panicked: release, and let the panic go on.
			at.latency = g.since(admitted)
			at.release(transport.NetworkError)
		}
	}()
	resp, err = roundtrip.Do(t.base, req)
	returned = true
	at.latency = g.since(admitted)

	if err != nil {
		at.release(transport.Classify(nil, err))
		return nil, err
	}
	at.outcome = transport.ClassifyStatus(resp.StatusCode)
	if at.outcome == transport.RateLimited {
		// Out of credit is no sign of the limit: its 429 leaves it be.
		at.outcome = transport.Classify(resp, nil)
	}
	at.scheduleWait = httpbody.ScheduleWaitOf(resp.Body)
	if r, ok := pm.(Responder); ok {
		r.Responded(at.feedback(at.outcome))
	}
	// The body wrapper holds a copy of at: the one allocation this
	// attempt's state costs while its body is read.
	resp.Body = httpbody.OnDoneWith(resp.Body, at, attempt.bodyDone)
	return resp, nil
}

// attempt is what the gate keeps of one admitted attempt until it releases
// the permit.
type attempt struct {
	pm           Permit
	admitted     time.Time
	latency      time.Duration // admission to the response headers
	scheduleWait time.Duration // as the response body reports it
	outcome      transport.Outcome
}

// bodyDone releases the permit when the response body is done, with the
// outcome of the response: the server admitted the request, whatever
// became of its body.
func (at attempt) bodyDone(error) { at.release(at.outcome) }

// release returns the permit with the attempt's feedback.
func (at *attempt) release(o transport.Outcome) { at.pm.Release(at.feedback(o)) }

func (at *attempt) feedback(o transport.Outcome) Feedback {
	return Feedback{Outcome: o, Admitted: at.admitted, Latency: at.latency, ScheduleWait: at.scheduleWait}
}

// admittedAtOnce reports whether pm comes from the gate's own in-process
// limiter, which granted it without queueing: then it was admitted when
// Acquire was called, and the gate need not read the clock again to know
// when. (A limiter that wraps an in-process one, as a shared limiter's
// fallback does, may have waited before it asked.)
func (g *Gate) admittedAtOnce(pm Permit) bool {
	lp, ok := pm.(*localPermit)
	return ok && !lp.queued && lp.ks.l == g.local
}
