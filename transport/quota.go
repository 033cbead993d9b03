package transport

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/pacerhttp/pacer/internal/errcodes"
)

// errorPeekLimit and errorPeekTimeout bound what Classify reads of a 429's
// body: error bodies are small and sent at once.
const errorPeekLimit = 1 << 10

var errorPeekTimeout = time.Second

// quotaCodes are the error codes, quoted as JSON strings, by which a 429
// says the account is out of credit rather than over its rate.
var quotaCodes = func() (q [len(errcodes.OutOfCredit)][]byte) {
	for i, c := range errcodes.OutOfCredit {
		q[i] = []byte(`"` + c + `"`)
	}
	return q
}()

// errorVerdict is implemented by a body that already knows whether its
// response is a quota error: the body quotaExhausted leaves behind, and the
// layers' body wrappers, which pass the question on.
type errorVerdict interface {
	// QuotaExhausted reports the verdict and whether it is known.
	QuotaExhausted() (exhausted, known bool)
}

// quotaExhausted reports whether resp's body names a quota code, reading a
// bounded prefix once and leaving resp.Body whole.
func quotaExhausted(resp *http.Response) bool {
	if v, ok := resp.Body.(errorVerdict); ok {
		if exhausted, known := v.QuotaExhausted(); known {
			return exhausted
		}
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	body := resp.Body
	buf := make([]byte, errorPeekLimit)
	timer := time.AfterFunc(errorPeekTimeout, func() { _ = body.Close() })
	n, err := io.ReadFull(body, buf)
	timer.Stop()
	p := &peekedBody{prefix: buf[:n], rest: body}
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		// The body ended within the prefix. It stays open for the caller
		// to close, so nothing downstream sees it closed early.
		p.err = io.EOF
	default:
		p.err = err
	}
	for _, code := range quotaCodes {
		if bytes.Contains(p.prefix, code) {
			p.exhausted = true
			break
		}
	}
	resp.Body = p
	return p.exhausted
}

// peekedBody yields the prefix Classify read, then the rest of the body.
type peekedBody struct {
	prefix    []byte
	rest      io.ReadCloser // the original body, closed by Close
	err       error         // what ended the peek early, returned after prefix
	exhausted bool
}

func (b *peekedBody) Read(p []byte) (int, error) {
	if len(b.prefix) > 0 {
		n := copy(p, b.prefix)
		b.prefix = b.prefix[n:]
		return n, nil
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.rest.Read(p)
}

func (b *peekedBody) Close() error {
	b.prefix = nil
	return b.rest.Close()
}

// QuotaExhausted reports the verdict Classify reached.
func (b *peekedBody) QuotaExhausted() (exhausted, known bool) { return b.exhausted, true }

// ScheduleWait passes on the schedule wait the original body reports.
func (b *peekedBody) ScheduleWait() time.Duration {
	if sw, ok := b.rest.(interface{ ScheduleWait() time.Duration }); ok {
		return sw.ScheduleWait()
	}
	return 0
}
