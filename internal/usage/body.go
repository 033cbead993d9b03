package usage

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/pacerhttp/pacer/internal/httpbody"
)

// Body passes a response body through to its reader and scans the bytes
// read with a [Scanner]. It reads nothing the caller does not read and holds
// no copy; each Read costs the scan and an uncontended lock, and no
// allocation. Read, Close and Usage may be called concurrently (Close may
// run while a Read is blocked, as [http.Response.Body] allows).
//
// It is meant to sit under an [httpbody.OnDone] hook, whose callback reads
// [Body.Usage] once the body has ended:
//
//	b := usage.NewBody(resp)
//	resp.Body = httpbody.OnDone(b, func(error) { settle(b.Usage()) })
//
// A Body passes on the schedule wait and the quota verdict its wrapped body
// reports, as the [httpbody.OnDone] wrapper does. A layer that keeps its
// state in one struct embeds a Body and calls [Body.Init], saving the
// allocation of NewBody.
type Body struct {
	rc io.ReadCloser
	mu sync.Mutex
	s  Scanner
}

// NewBody returns a Body that reads resp.Body, as an event stream when resp
// declares one ([IsEventStream]), as one JSON document otherwise. It does not
// change resp.
func NewBody(resp *http.Response) *Body {
	b := new(Body)
	b.Init(resp.Body, IsEventStream(resp.Header))
	return b
}

// Init makes b read rc, an event stream when sse is true. It must not be
// called while b is in use.
func (b *Body) Init(rc io.ReadCloser, sse bool) {
	b.rc = rc
	b.s.Reset(sse)
}

// Read reads from the wrapped body and scans what it returns.
func (b *Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.mu.Lock()
		b.s.Feed(p[:n])
		b.mu.Unlock()
	}
	return n, err
}

// Close closes the wrapped body.
func (b *Body) Close() error { return b.rc.Close() }

// Usage returns the usage the bytes read so far reported. Once the body has
// ended (EOF, an error or Close) it is final.
func (b *Body) Usage() Usage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s.Usage()
}

// ScheduleWait passes on what the wrapped body reports
// ([httpbody.ScheduleWaiter]).
func (b *Body) ScheduleWait() time.Duration { return httpbody.ScheduleWaitOf(b.rc) }

// QuotaExhausted passes on the verdict a classification left with the
// wrapped body.
func (b *Body) QuotaExhausted() (exhausted, known bool) {
	if v, ok := b.rc.(interface{ QuotaExhausted() (bool, bool) }); ok {
		return v.QuotaExhausted()
	}
	return false, false
}

// ReadRequest reads the [Request] fields from r, at most limit bytes of it,
// through buf (which must not be empty), and stops as soon as model, stream
// and the output-token bound are all known or the document has ended. It
// does not close r. A request body belongs to the transport that sends it:
// call it on a copy from GetBody.
func ReadRequest(r io.Reader, buf []byte, limit int) Request {
	var s Scanner
	for n := 0; n < limit && !s.Done(); {
		p := buf
		if len(p) > limit-n {
			p = p[:limit-n]
		}
		k, err := r.Read(p)
		s.Feed(p[:k])
		n += k
		if rq := s.Request(); (rq.Model != "" && rq.HasStream && rq.HasMaxTokens) || err != nil {
			break
		}
	}
	return s.Request()
}
