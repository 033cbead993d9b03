// Package replay makes a request body sendable more than once, for the
// layers that retry or redirect a request.
package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// DefaultBuffer is a sensible bound for [Prepare] when a layer has
// no configuration of its own: 4 MiB holds any chat request short of a
// conversation with large inline images.
const DefaultBuffer = 4 << 20

// ErrNotReplayable is returned by [Rewind] for a request whose body cannot be
// produced a second time.
var ErrNotReplayable = errors.New("pacer: request body cannot be replayed")

// Replayable prepares req so that its body can be sent more than once, and
// reports whether it can. It never modifies req; when it needs to change the
// body it returns a shallow copy.
//
//   - A request without a body, or with [http.NoBody], is replayable as is.
//   - A request with GetBody (as [http.NewRequest] sets for bytes, strings
//     and bytes.Buffer bodies, which is what SDKs send) is replayable as is.
//   - Otherwise up to maxBuffer bytes are read. A body that ends within them
//     is kept in memory: the original body is closed and the copy gets a
//     GetBody. A longer body is not replayable: the copy's Body yields the
//     bytes already read and then the rest of the original, so every byte is
//     still sent exactly once. No more than maxBuffer+1 bytes are ever held
//     (a body of unknown length is read in pieces of up to 64 KiB, not into
//     a buffer that doubles).
//
// On a read error the original body is closed and the error returned.
func Prepare(req *http.Request, maxBuffer int64) (*http.Request, bool, error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return req, true, nil
	}
	if maxBuffer < 0 {
		maxBuffer = 0
	}
	first := int64(firstChunk)
	if req.ContentLength > 0 {
		first = req.ContentLength + 1 // one more, to see the end within it
	}
	chunks, n, err := readChunks(req.Body, maxBuffer+1, first)
	if err != nil {
		_ = req.Body.Close()
		return nil, false, fmt.Errorf("pacer: reading request body for replay: %w", err)
	}
	out := new(http.Request)
	*out = *req
	if n <= maxBuffer {
		_ = req.Body.Close()
		out.ContentLength = n
		switch len(chunks) {
		case 0:
			out.Body = http.NoBody
			out.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
			return out, true, nil
		case 1:
			data := chunks[0]
			out.GetBody = func() (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(data)), nil
			}
		default:
			out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(chunkReader(chunks)), nil }
		}
		out.Body, _ = out.GetBody()
		return out, true, nil
	}
	out.Body = &prefixedBody{Reader: io.MultiReader(chunkReader(chunks), req.Body), closer: req.Body}
	return out, false, nil
}

// A body of unknown length is read in pieces that start at firstChunk and
// double up to chunkSize: a small body costs about its size, a large one
// its size and at most one piece more, never a doubled buffer.
const (
	firstChunk = 4 << 10
	chunkSize  = 64 << 10
)

// readChunks reads r until its end or limit bytes, the first piece of at
// most first bytes (the length the request states, when it does), the
// others twice the one before, up to chunkSize. It returns the pieces,
// holding n bytes in all; an end of r is no error.
func readChunks(r io.Reader, limit, first int64) (chunks [][]byte, n int64, err error) {
	size := min(first, limit)
	for n < limit {
		c := make([]byte, min(size, limit-n))
		m, err := io.ReadFull(r, c)
		if m > 0 {
			chunks = append(chunks, c[:m])
			n += int64(m)
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return chunks, n, nil
		case err != nil:
			return nil, 0, err
		}
		size = min(max(2*size, firstChunk), chunkSize)
	}
	return chunks, n, nil
}

// chunkReader reads the chunks in order.
func chunkReader(chunks [][]byte) io.Reader {
	rs := make([]io.Reader, len(chunks))
	for i, c := range chunks {
		rs[i] = bytes.NewReader(c)
	}
	return io.MultiReader(rs...)
}

type prefixedBody struct {
	io.Reader
	closer io.Closer
}

func (b *prefixedBody) Close() error { return b.closer.Close() }

// Rewind returns a shallow copy of req with a fresh body from req.GetBody,
// ready to be sent again. A request without a body is returned as a shallow
// copy. It returns [ErrNotReplayable] when the body cannot be produced again.
func Rewind(req *http.Request) (*http.Request, error) {
	out := new(http.Request)
	*out = *req
	if req.Body == nil || req.Body == http.NoBody {
		return out, nil
	}
	if req.GetBody == nil {
		return nil, ErrNotReplayable
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("pacer: GetBody: %w", err)
	}
	out.Body = body
	return out, nil
}
