package otelpacer

import (
	"net/http"
	"strings"

	"github.com/pacerhttp/pacer/internal/usage"
)

const (
	// readBufSize is the buffer used to read a copy of a request body.
	readBufSize = 4 << 10
	// maxRequestScan bounds how much of a request body copy is read to find
	// "model" and "stream"; chat requests with long histories put them
	// after the messages, so the bound is generous.
	maxRequestScan = 1 << 20
)

// isChat reports whether req calls a chat endpoint: OpenAI-compatible chat
// completions (…/chat/completions) or Anthropic's Messages (…/v1/messages).
func isChat(req *http.Request) bool {
	if req.Method != http.MethodPost || req.URL == nil {
		return false
	}
	p := strings.TrimSuffix(req.URL.Path, "/")
	return strings.HasSuffix(p, "/chat/completions") || strings.HasSuffix(p, "/v1/messages")
}

// readChatRequest reads "model" and "stream" from a copy of req's body made
// by GetBody, reading at most maxRequestScan bytes. Without GetBody it reads
// nothing: the body itself belongs to the transport that sends it.
func (t *Telemetry) readChatRequest(req *http.Request) usage.Request {
	if req.GetBody == nil || req.Body == nil || req.Body == http.NoBody {
		return usage.Request{}
	}
	rc, err := req.GetBody()
	if err != nil || rc == nil {
		return usage.Request{}
	}
	defer rc.Close()
	buf := t.bufs.Get().(*[readBufSize]byte)
	defer t.bufs.Put(buf)
	return usage.ReadRequest(rc, buf[:], maxRequestScan)
}
