package transport

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
)

// Outcome classifies how one attempt ended. Layers make their decisions on
// it (retry, breaker, the adaptive gate) and telemetry counts by it.
type Outcome uint8

// The outcomes, as [Classify] assigns them.
const (
	// OK is any response below 400.
	OK Outcome = iota
	// RateLimited is a 429: the account's current limit was exceeded.
	RateLimited
	// Overloaded is a 503 or 529: the platform, not the account, is full.
	Overloaded
	// ServerError is any other 5xx.
	ServerError
	// PaymentRequired is a 402: the balance is exhausted. Never retried.
	PaymentRequired
	// QuotaExhausted is a 429 whose error body names a quota or billing
	// code (see [Classify]): the account is out of credit, not going too
	// fast. Final like [PaymentRequired]: never retried, no sign of the
	// server's load or health.
	QuotaExhausted
	// ClientError is any other 4xx: the caller's bug. Never retried.
	ClientError
	// NetworkError is an error other than a timeout or cancellation: the
	// connection was refused, reset, or closed before a response arrived.
	NetworkError
	// Timeout is a deadline that passed: the context's, or a net.Error
	// whose Timeout method reports true.
	Timeout
	// Canceled is a context canceled by the caller.
	Canceled
	// Rejected is a request that a pacer layer refused to send (an open
	// circuit, a full gate queue): nothing reached the server. Not retried,
	// and no sign of the server's health.
	Rejected
)

var outcomeNames = [...]string{
	OK:              "ok",
	RateLimited:     "rate_limited",
	Overloaded:      "overloaded",
	ServerError:     "server_error",
	PaymentRequired: "payment_required",
	QuotaExhausted:  "quota_exhausted",
	ClientError:     "client_error",
	NetworkError:    "network_error",
	Timeout:         "timeout",
	Canceled:        "canceled",
	Rejected:        "rejected",
}

// String returns the outcome's name in snake case ("rate_limited"), suitable
// as a metric attribute value.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// ErrNoResponse marks an error after which nothing of a response reached the
// caller, so the request may safely be sent again (when its body can be
// replayed). Layers that detect such a failure late, such as keepalive's
// connection closed while waiting to be scheduled, wrap it; [Classify] reports
// it as [NetworkError].
var ErrNoResponse = errors.New("transport: no response was delivered")

// ErrRejected marks an error by which a pacer layer refused to send a
// request at all: the breaker's open circuit, the gate's full queue or queue
// timeout. [Classify] reports it as [Rejected], which the retry layer does
// not retry and the breaker does not count: shedding load locally is the
// point, and sending it again at once would defeat it.
var ErrRejected = errors.New("transport: request rejected before it was sent")

// Classify tells how an attempt ended from what RoundTrip returned. A non-nil
// err wins over resp. Errors are told apart by their chain, never by message
// text: an error wrapping [ErrRejected] is [Rejected]; [context.Canceled] is
// [Canceled]; [context.DeadlineExceeded],
// [os.ErrDeadlineExceeded] and a [net.Error] whose Timeout is true are
// [Timeout]; anything else is [NetworkError].
//
// A response is classified by its status ([ClassifyStatus]), except a 429,
// whose body Classify reads to tell [QuotaExhausted] from [RateLimited]: it
// reads at most 1 KiB, for at most one second (a stalled body is closed),
// and replaces resp.Body with a body that yields every byte of the original,
// so the caller reads what the server sent. The verdict is kept with that
// body, and the layers' body wrappers pass it on, so a response classified
// by several layers is read once. Because the read can reach the body's end
// and fire the end-of-body hooks of the layers below, never call Classify
// on a response while holding a lock those hooks take, such as inside
// [Record.Update]. A 429 is [QuotaExhausted] when its body
// holds one of these codes as a JSON string: "insufficient_quota" (OpenAI),
// "billing_hard_limit_reached", "billing_not_active",
// "insufficient_balance", "quota_exceeded".
func Classify(resp *http.Response, err error) Outcome {
	if err != nil {
		return classifyError(err)
	}
	if resp == nil {
		return NetworkError
	}
	if resp.StatusCode == http.StatusTooManyRequests && quotaExhausted(resp) {
		return QuotaExhausted
	}
	return ClassifyStatus(resp.StatusCode)
}

// ClassifyStatus maps an HTTP status code to its outcome. It sees no body,
// so a 429 is always [RateLimited]; [Classify] tells [QuotaExhausted] apart.
func ClassifyStatus(code int) Outcome {
	switch {
	case code == http.StatusTooManyRequests:
		return RateLimited
	case code == http.StatusServiceUnavailable || code == 529:
		return Overloaded
	case code >= 500:
		return ServerError
	case code == http.StatusPaymentRequired:
		return PaymentRequired
	case code >= 400:
		return ClientError
	default:
		return OK
	}
}

func classifyError(err error) Outcome {
	switch {
	case errors.Is(err, ErrRejected):
		return Rejected
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return Timeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Timeout
	}
	return NetworkError
}
