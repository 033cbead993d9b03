package llmtest

import "strconv"

// Behavior is what a scripted request gets; see [Server.Script].
type Behavior int

const (
	// Normal is ordinary service: the limit, overload windows, waits and
	// faults apply as configured.
	Normal Behavior = iota
	// RateLimit answers 429 with the error JSON and Retry-After per Config.
	RateLimit
	// Overload answers 503 with the error JSON and Retry-After per Config.
	Overload
	// ServerError answers 500 with the error JSON.
	ServerError
	// PaymentRequired answers 402 with the error JSON.
	PaymentRequired
	// ResetBeforeHeaders resets the TCP connection before any response byte.
	ResetBeforeHeaders
	// CutMidBody sends 200 and part of the body, then closes the connection.
	CutMidBody
	// SlowHeaders sleeps Config.Faults.SlowHeadersDelay (default 1s) before
	// the headers, then answers.
	SlowHeaders
	// WaitThenAnswer sends 200, keep-alives for Config.Wait.Duration
	// (default 50ms, Max ignored), then the answer.
	WaitThenAnswer
	// WaitThenClose sends 200, keep-alives for Config.Wait.Max (or
	// Wait.Duration when Max is zero, default 50ms), then closes the
	// connection without answering.
	WaitThenClose
	// TruncatedJSON sends 200 and a chat.completion JSON cut in the middle,
	// with a Content-Length that matches the cut body, so the body ends
	// cleanly.
	TruncatedJSON
	// StallMidBody sends 200 and the start of the answer, then stops while
	// keeping the connection open: a stream sends its first
	// Config.Faults.StallAfter chunks (default 1), then SSE keep-alive
	// comments every Config.Wait.Interval (default 10ms) with no further
	// event; a JSON answer sends its first half, then nothing. It goes on
	// until the client leaves or the server closes.
	StallMidBody
	// ErrorInStream sends 200 and then, instead of the answer, the 429
	// error a gateway reports inside the response: a stream's first event
	// is `data: {"error":{..."code":"rate_limit_exceeded"}}`, then the
	// stream ends; a JSON answer's body is that error JSON. The Anthropic
	// personality sends its overloaded_error instead, as an "error" event.
	ErrorInStream
)

var behaviorNames = [...]string{
	Normal:             "Normal",
	RateLimit:          "RateLimit",
	Overload:           "Overload",
	ServerError:        "ServerError",
	PaymentRequired:    "PaymentRequired",
	ResetBeforeHeaders: "ResetBeforeHeaders",
	CutMidBody:         "CutMidBody",
	SlowHeaders:        "SlowHeaders",
	WaitThenAnswer:     "WaitThenAnswer",
	WaitThenClose:      "WaitThenClose",
	TruncatedJSON:      "TruncatedJSON",
	StallMidBody:       "StallMidBody",
	ErrorInStream:      "ErrorInStream",
}

// String returns the constant's name, such as "RateLimit".
func (b Behavior) String() string {
	if b >= 0 && int(b) < len(behaviorNames) {
		return behaviorNames[b]
	}
	return "Behavior(" + strconv.Itoa(int(b)) + ")"
}
