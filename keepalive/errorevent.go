package keepalive

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pacerhttp/pacer/internal/errcodes"
)

// errorMark is the text every error event this file recognises contains;
// a first event without it is an answer, which costs no parsing.
var errorMark = []byte("error")

// errorEvent reads the first event of a filtered stream, head (the bytes up
// to and past its dispatch), and reports the status of the response the
// event stands for when it is an error the server sent inside a 200
// instead of a status: a rate limit or an account out of credit (429), a
// billing error (402), Anthropic's overloaded_error (529), or another
// overload (503). data is the event's data, which becomes
// the body of that response. status is 0 for any other event.
//
// An event is an error when its data is a JSON object with an "error"
// member, or its type is "error" and its data a JSON object; which status
// it names comes from that member's (or that object's) "type", "code" and
// "status" (see statusOfError).
func errorEvent(head []byte) (status int, data []byte) {
	if !bytes.Contains(head, errorMark) {
		return 0, nil
	}
	name, data, ok := firstEvent(head)
	if !ok || len(data) == 0 {
		return 0, nil
	}
	var ev struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &ev) != nil {
		return 0, nil
	}
	member := ev.Error
	if len(member) == 0 || string(member) == "null" {
		if name != "error" {
			return 0, nil
		}
		member = data // an error event may carry the error itself
	}
	return statusOfError(member), data
}

// statusOfError maps the "error" member of an error event to a status:
//
//   - 429 for an account out of credit named by one of the codes
//     [transport.QuotaExhausted] recognises in a 429's body
//     ("insufficient_quota", "billing_hard_limit_reached", ...), so that
//     the 429 is classified as out of credit, never as pacing;
//   - 402 for any other billing or credit error: a type, code or status
//     containing "billing", "credit" or "quota" (Anthropic's billing_error
//     is a 402), or the code 402: final, like DeepSeek's 402;
//   - 429 for a rate limit: "rate_limit", "resource_exhausted" or
//     "too_many_requests", or the code 429;
//   - 529 for "overloaded_error", Anthropic's overload, or the code 529;
//   - 503 for another overload: "overload", "unavailable", "capacity", or
//     the code 503.
//
// Anything else is 0: the event passes to the caller as it came.
func statusOfError(raw json.RawMessage) int {
	var e struct {
		Type   string          `json:"type"`
		Code   json.RawMessage `json:"code"`
		Status string          `json:"status"`
	}
	var text string
	if json.Unmarshal(raw, &text) != nil {
		if json.Unmarshal(raw, &e) != nil {
			return 0
		}
		code := string(e.Code)
		if s, err := strconv.Unquote(code); err == nil {
			code = s
		}
		switch code {
		case "402", "429", "503", "529":
			n, _ := strconv.Atoi(code)
			return n
		}
		text = e.Type + " " + code + " " + e.Status
	}
	text = strings.ToLower(text)
	contains := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(text, s) {
				return true
			}
		}
		return false
	}
	switch {
	case contains(errcodes.OutOfCredit[:]...):
		return http.StatusTooManyRequests
	case contains("billing", "credit", "quota"):
		return http.StatusPaymentRequired
	case contains("rate_limit", "resource_exhausted", "too_many_requests"):
		return http.StatusTooManyRequests
	case contains("overloaded_error"):
		return 529
	case contains("overload", "unavailable", "capacity"):
		return http.StatusServiceUnavailable
	}
	return 0
}

// firstEvent parses the first event dispatched in b by the rules of the
// WHATWG event-stream format: its type (the last "event" field) and its
// data (the "data" fields joined by newlines). ok is false when no event is
// dispatched within b.
func firstEvent(b []byte) (name string, data []byte, ok bool) {
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	var hasData bool
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			return "", nil, false // a line without its end dispatches nothing
		}
		line := b[:i]
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		b = b[i+1:]
		if len(line) == 0 {
			if hasData {
				return name, bytes.TrimSuffix(data, []byte{'\n'}), true
			}
			name = ""
			continue
		}
		field, value, _ := bytes.Cut(line, []byte{':'})
		value = bytes.TrimPrefix(value, []byte{' '})
		switch string(field) {
		case "event":
			name = string(value)
		case "data":
			data = append(append(data, value...), '\n')
			hasData = true
		}
	}
	return "", nil, false
}

// errorResponse is the response an error event stands for: resp's
// protocol, request and headers, with status and data as its JSON body.
func errorResponse(resp *http.Response, status int, data []byte) *http.Response {
	h := resp.Header.Clone()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	text := http.StatusText(status)
	if status == 529 {
		text = "Overloaded"
	}
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + text,
		StatusCode:    status,
		Proto:         resp.Proto,
		ProtoMajor:    resp.ProtoMajor,
		ProtoMinor:    resp.ProtoMinor,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(data)),
		ContentLength: int64(len(data)),
		Request:       resp.Request,
		TLS:           resp.TLS,
	}
}
