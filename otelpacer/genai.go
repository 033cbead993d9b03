package otelpacer

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
)

const (
	// readBufSize is the buffer used to read a copy of a request body.
	readBufSize = 4 << 10
	// maxRequestScan bounds how much of a request body copy is read to find
	// "model" and "stream"; chat requests with long histories put them
	// after the messages, so the bound is generous.
	maxRequestScan = 1 << 20
)

// isChat reports whether req calls the chat completions endpoint.
func isChat(req *http.Request) bool {
	return req.Method == http.MethodPost && req.URL != nil &&
		strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/chat/completions")
}

// chatRequest holds what the request body says.
type chatRequest struct {
	model     string
	stream    bool
	hasStream bool
}

// readChatRequest reads "model" and "stream" from a copy of req's body made
// by GetBody, reading at most maxRequestScan bytes and stopping as soon as
// both are known. Without GetBody it reads nothing: the body itself belongs
// to the transport that sends it.
func (t *Telemetry) readChatRequest(req *http.Request) chatRequest {
	var cr chatRequest
	if req.GetBody == nil || req.Body == nil || req.Body == http.NoBody {
		return cr
	}
	rc, err := req.GetBody()
	if err != nil || rc == nil {
		return cr
	}
	defer rc.Close()
	buf := t.bufs.Get().(*[readBufSize]byte)
	defer t.bufs.Put(buf)
	var s jsonScan
	for n := 0; n < maxRequestScan && !s.finished(); {
		k, err := rc.Read(buf[:])
		s.feed(buf[:k])
		n += k
		if (s.hasModel && s.hasStream) || err != nil {
			break
		}
	}
	cr.model, cr.stream, cr.hasStream = s.model, s.stream, s.hasStream
	return cr
}

// scanBody passes a chat response body through to the caller and scans the
// bytes the caller reads for "model" and "usage": as one JSON document, or,
// for text/event-stream, as one document per SSE event. It reads nothing the
// caller does not read, holds no copy, and costs nothing per Read beyond the
// scan and an uncontended lock (Close may run concurrently with Read, and
// the results are read when the body is done).
type scanBody struct {
	rc  io.ReadCloser
	sse bool
	mu  sync.Mutex
	ss  sseScan // ss.js alone scans a JSON body
}

func (b *scanBody) init(resp *http.Response) {
	b.rc = resp.Body
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	b.sse = mt == "text/event-stream"
}

func (b *scanBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.mu.Lock()
		if b.sse {
			b.ss.feed(p[:n])
		} else {
			b.ss.js.feed(p[:n])
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *scanBody) Close() error { return b.rc.Close() }

// chatResponse holds what the response body said.
type chatResponse struct {
	model               string
	input, output       int64
	hasInput, hasOutput bool
}

func (b *scanBody) result() chatResponse {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &b.ss.js
	return chatResponse{
		model: s.model, input: s.prompt, output: s.completion,
		hasInput: s.hasPrompt, hasOutput: s.hasCompletion,
	}
}
