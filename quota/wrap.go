package quota

import (
	"io"
	"net/http"

	"github.com/pacerhttp/pacer/internal/httpbody"
	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/internal/usage"
	"github.com/pacerhttp/pacer/transport"
)

// Wrap returns a transport that sends each request through base (a nil
// base means [http.DefaultTransport]) once its key's budget covers it.
//
// A request to a host that has never announced a rate limit goes straight
// through: the layer only looks at its response's headers. Once a host
// has, each request is keyed ([Config].Key), its token cost estimated from
// its body (read from a copy made by GetBody, never from the body itself)
// and reserved; when a window of its key lacks the cost and resets within
// [Config].MaxWait, the request waits, in priority order
// ([transport.PriorityFrom]) and in order of arrival within a priority,
// until the window resets. A wait ends, the request unsent and its body
// closed, with a [*WaitError] when the queue is full, the wait lasts
// [Config].QueueTimeout, or the request's context ends.
//
// Each response's rate-limit headers ([transport.ParseRateLimits]) replace
// the key's budgets, less what was reserved after the request was sent, and
// are written into the request's [transport.Record] (Facts.RateLimits) when
// it carries one. When the response reports its token usage, the
// reservation is settled to it, unless a later report already covers it.
// The layer does not modify the caller's request, and interprets nothing
// but the headers: every response reaches the caller as it came.
func (q *Quota) Wrap(base http.RoundTripper) http.RoundTripper {
	return &quotaTransport{q: q, base: roundtrip.Base(base)}
}

type quotaTransport struct {
	q    *Quota
	base http.RoundTripper
}

// CloseIdleConnections forwards to the base transport.
func (t *quotaTransport) CloseIdleConnections() { roundtrip.CloseIdleConnections(t.base) }

// RoundTrip implements [http.RoundTripper].
func (t *quotaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	q := t.q
	hs := q.hostOf(req)
	if hs == nil || !hs.announced.Load() {
		// The path of every request to a server that sends no rate-limit
		// headers: no scan, no lock, no allocation. Until the host is
		// quiet, the requests in flight are counted, so that when its
		// first report comes the others still unanswered are known.
		counting := hs != nil && hs.quiet.Load() < quietAfter
		if counting {
			hs.inflight.Add(1)
		}
		resp, err := roundtrip.Do(t.base, req)
		if counting {
			hs.inflight.Add(-1)
		}
		if err != nil || !q.look(hs) {
			return resp, err
		}
		if !hasRateLimits(resp.Header) {
			hs.quietOne()
			return resp, nil
		}
		cold := int64(0)
		if hs != nil {
			hs.announced.Store(true)
			cold = hs.inflight.Load()
		}
		q.observe(req, resp, nil, 0, reqInfo{}, false, cold)
		return resp, nil
	}

	ri := scanRequest(req)
	ks := q.keyState(q.key(req, ri.model))
	if ks == nil {
		resp, err := roundtrip.Do(t.base, req)
		if err != nil {
			return nil, err
		}
		q.observe(req, resp, nil, 0, ri, true, 0)
		return resp, nil
	}
	c := q.cost(&ri)
	ctx := req.Context()
	seq, err := ks.acquire(ctx, &c, transport.PriorityFrom(ctx))
	if err != nil {
		httpbody.CloseRequest(req)
		return nil, err
	}
	resp, err := roundtrip.Do(t.base, req)
	if err != nil {
		// The server may have counted it or not: the next report tells.
		ks.report(seq, &transport.RateLimits{})
		return nil, err
	}
	q.observe(req, resp, ks, seq, ri, true, 0)
	if resp.Body != http.NoBody && ks.tokensKnown() {
		s := &settlement{ks: ks, seq: seq, c: c}
		s.body.Init(resp.Body, usage.IsEventStream(resp.Header))
		resp.Body = httpbody.OnDoneWith(io.ReadCloser(&s.body), s, (*settlement).done)
	}
	return resp, nil
}

// observe reads resp's rate-limit headers into the request's record and,
// when there are any, into the budget of the request's key (ks, or the
// key's state found or made from ri when ks is nil). A key's state made
// here starts with cold unanswered requests sent before it, each taken to
// cost what this one does.
func (q *Quota) observe(req *http.Request, resp *http.Response, ks *keyState, seq uint64, ri reqInfo, scanned bool, cold int64) {
	rl := transport.ParseRateLimits(resp.Header, q.now())
	transport.RecordFrom(req.Context()).Update(func(f *transport.Facts) { f.RateLimits = rl })
	if ks == nil {
		if !rl.Reported() {
			return
		}
		if !scanned {
			ri = scanRequest(req)
		}
		var made bool
		ks, made = q.newKeyState(q.key(req, ri.model))
		if made && cold > 0 {
			c := q.cost(&ri)
			ks.cold(cold, &c)
		}
	}
	ks.report(seq, &rl)
}

// cost is the estimate of what a request spends: one request, its body's
// length / 4 in input tokens, and its max_tokens (or
// [Config].DefaultMaxTokens) in output tokens.
func (q *Quota) cost(ri *reqInfo) cost {
	in := ri.size / 4
	out := ri.maxTokens
	if out == 0 {
		out = q.defMaxTokens
	}
	return cost{kindRequests: 1, kindTokens: in + out, kindInput: in, kindOutput: out}
}

// settlement settles one reservation to the usage its response body
// reports, once the body is done.
type settlement struct {
	body usage.Body
	ks   *keyState
	seq  uint64
	c    cost
}

func (s *settlement) done(error) {
	u := s.body.Usage()
	if !u.Reported() {
		return
	}
	real := s.c
	if u.HasInput {
		real[kindInput] = u.Input
	}
	if u.HasOutput {
		real[kindOutput] = u.Output
	}
	switch {
	case u.HasTotal:
		real[kindTokens] = u.Total
	default:
		real[kindTokens] = real[kindInput] + real[kindOutput]
	}
	s.ks.settle(s.seq, &s.c, &real)
}
