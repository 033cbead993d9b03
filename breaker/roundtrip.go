package breaker

import (
	"net/http"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
)

// roundTripper is the transport returned by [Breaker.Wrap].
//
// It bends the [http.RoundTripper] rule that a transport should not
// interpret responses: it reads each status code (and, for a response the
// circuit has not yet judged, whether its body ends cleanly) to count
// failures. It never changes a response it returns, except that the body
// of a response whose status is not a failure is wrapped to learn how it
// ends.
type roundTripper struct {
	b    *Breaker
	base http.RoundTripper
}

// RoundTrip sends req through its key's circuit.
//
// Closed (or half-open with a probe permit free), req goes to the base
// transport. A 5xx (a 429 too with [Config.CountRateLimited]), a network
// error or a timeout counts as a failure at once; any other response is
// judged when its body ends: reaching EOF or being closed by the caller
// counts as a success, a read error as a failure. The caller must close the
// body, as [http.Client] requires, or a half-open probe is never settled. A
// request canceled by its caller does not count, except as a probe (see
// [Config.Probes]), where it counts as a failure. A request that the base
// refused to send (its error matches [transport.ErrRejected]) never
// counts.
//
// Refused (open, or every probe in flight), an Interactive request goes to
// [Config.Fallback] when one is set; anything else fails at once with an
// [*OpenError], and req.Body is closed.
//
// The state the request met and whether the fallback served it are written
// to the request's [transport.Record], when it carries one.
func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	b := t.b
	c := b.circuit(b.cfg.Key(req))
	rec := transport.RecordFrom(req.Context())
	met, ok := c.acquire()
	if !ok {
		return t.refuse(req, c, met, rec)
	}
	if rec != nil {
		rec.Update(func(f *transport.Facts) {
			f.BreakerState = met.String()
			f.Fallback = false
		})
	}
	probe := met == HalfOpen
	var gen uint64
	if probe {
		gen = c.generation()
	}

	returned := false
	defer func() {
		if !returned {
			// base panicked: a failure, so that a probe's permit is not
			// held forever; the panic goes on.
			c.settle(probe, failure)
		}
	}()
	resp, err := roundtrip.Do(t.base, req)
	returned = true
	if err != nil {
		v := b.verdict(transport.Classify(nil, err))
		if probe && v == unsent {
			c.giveBack(gen)
		}
		c.settle(probe, v)
		return nil, err
	}
	outcome := transport.ClassifyStatus(resp.StatusCode)
	if outcome == transport.RateLimited && b.cfg.CountRateLimited {
		// A 429 out of credit is no failure of the server.
		outcome = transport.Classify(resp, nil)
	}
	if v := b.verdict(outcome); v != success {
		c.settle(probe, v)
		return resp, nil
	}
	done := c.closedDone
	if probe {
		done = c.probeDone
	}
	resp.Body = httpbody.OnDone(resp.Body, done)
	return resp, nil
}

// bodyDone settles a request whose response the circuit judges by its body:
// a body that reached EOF or was closed by the caller is a success, a read
// error is judged as the error.
func (c *circuit) bodyDone(probe bool, err error) {
	v := success
	if httpbody.Failed(err) {
		v = c.b.verdict(transport.Classify(nil, err))
	}
	c.settle(probe, v)
}

// refuse handles a request its circuit did not admit.
func (t *roundTripper) refuse(req *http.Request, c *circuit, st State, rec *transport.Record) (*http.Response, error) {
	fb := t.b.cfg.Fallback
	useFallback := fb != nil && transport.PriorityFrom(req.Context()) == transport.Interactive
	if rec != nil {
		rec.Update(func(f *transport.Facts) {
			f.BreakerState = st.String()
			f.Fallback = useFallback
		})
	}
	if useFallback {
		return roundtrip.Do(fb, req)
	}
	httpbody.CloseRequest(req)
	return nil, &OpenError{Key: c.key, State: st, Remaining: c.remaining()}
}

// CloseIdleConnections forwards to the base transport and the fallback.
func (t *roundTripper) CloseIdleConnections() {
	roundtrip.CloseIdleConnections(t.base)
	if fb := t.b.cfg.Fallback; fb != nil {
		roundtrip.CloseIdleConnections(fb)
	}
}
