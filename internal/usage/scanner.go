package usage

import (
	"net/http"
	"strings"
)

// Scanner reads [Usage] (from a response body) or a [Request] (from a
// request body) out of bytes fed to it in pieces, in order. Its memory is
// constant however long the body; it allocates only to keep a model name
// that differs from the one it already holds. The zero Scanner scans one
// JSON document; [Scanner.Reset] chooses the body's format. A Scanner is not
// safe for concurrent use; [Body] adds the lock.
//
// In an event stream each event's data is scanned as a JSON document of its
// own and the last value seen of each field wins: the usage of the final
// chunk of an OpenAI-compatible stream, Anthropic's input tokens from
// message_start and output tokens from the last message_delta. Fields are
// read at the top level of a document, or inside a top-level "message" or
// "response" object; a count that is not a non-negative integer is ignored.
// A document that is not JSON, such as the "[DONE]" of an OpenAI stream, is
// ignored.
type Scanner struct {
	sse bool
	ss  sseScan // ss.js alone scans a JSON body
}

// Reset clears the scanner for a new body: an event stream when sse is
// true, one JSON document otherwise.
func (s *Scanner) Reset(sse bool) {
	*s = Scanner{sse: sse}
}

// Feed scans p, the next bytes of the body. It keeps no reference to p.
func (s *Scanner) Feed(p []byte) {
	if s.sse {
		s.ss.feed(p)
	} else {
		s.ss.js.feed(p)
	}
}

// Done reports whether feeding more bytes can change nothing: the JSON
// document ended, or is not JSON. It is always false for an event stream.
func (s *Scanner) Done() bool { return !s.sse && s.ss.js.finished() }

// Usage returns the usage reported by the bytes fed so far.
func (s *Scanner) Usage() Usage { return s.ss.js.usage() }

// Request returns the request fields read from the bytes fed so far.
func (s *Scanner) Request() Request { return s.ss.js.request() }

// IsEventStream reports whether h declares a text/event-stream body.
func IsEventStream(h http.Header) bool {
	mt, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}
