package retry

import (
	"net/http"
	"strings"

	"github.com/pacerhttp/pacer/transport"
)

// DefaultShouldRetry is the retry decision used when [Config.ShouldRetry] is
// nil. It retries:
//
//   - 408, 429, 500, 502, 503, 504 and 529 responses;
//   - [transport.NetworkError]: the request may not have reached the server,
//     or no response was delivered (refused, reset, EOF before the headers,
//     or an error wrapping [transport.ErrNoResponse]).
//
// It never retries a 429 that says the account is out of credit
// ([transport.QuotaExhausted]: no wait makes credit come back), 402, any
// other 4xx, other 5xx (501, 505, ...), timeouts,
// a cancelled context, or a request a layer refused to send
// ([transport.Rejected]: an open breaker, a full gate queue). On an error
// status (400 and above) an "x-should-retry" response header of "true" or
// "false" overrides the decision made from the status, as OpenAI's servers
// intend; a response below 400 is an answer and is never retried.
func DefaultShouldRetry(outcome transport.Outcome, resp *http.Response, err error) bool {
	if err != nil {
		return outcome == transport.NetworkError
	}
	if resp == nil || resp.StatusCode < 400 || outcome == transport.QuotaExhausted {
		return false
	}
	if v := resp.Header["X-Should-Retry"]; len(v) > 0 {
		switch v := strings.TrimSpace(v[0]); {
		case strings.EqualFold(v, "true"):
			return true
		case strings.EqualFold(v, "false"):
			return false
		}
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout,
		http.StatusTooManyRequests,
		http.StatusInternalServerError,
		http.StatusBadGateway,
		http.StatusServiceUnavailable,
		http.StatusGatewayTimeout,
		529:
		return true
	}
	return false
}
