package llmtest

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error bodies in the DeepSeek/OpenAI format.
const (
	body400 = `{"error":{"message":"Invalid request: the body is not valid JSON","type":"invalid_request_error","param":null,"code":"invalid_request_error"}}`
	body401 = `{"error":{"message":"Authentication Fails, Your api key is invalid","type":"authentication_error","param":null,"code":"invalid_api_key"}}`
	body402 = `{"error":{"message":"Insufficient Balance","type":"insufficient_quota","param":null,"code":"insufficient_balance"}}`
	body404 = `{"error":{"message":"Not Found","type":"invalid_request_error","param":null,"code":"not_found"}}`
	body405 = `{"error":{"message":"Method Not Allowed","type":"invalid_request_error","param":null,"code":"method_not_allowed"}}`
	body429 = `{"error":{"message":"Rate Limit Reached","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`
	body500 = `{"error":{"message":"The server had an error while processing your request","type":"server_error","param":null,"code":"internal_error"}}`
	body503 = `{"error":{"message":"The server is overloaded due to high traffic, please retry after a brief wait","type":"server_error","param":null,"code":"server_overloaded"}}`
)

// writeError answers status with an error body, adding Retry-After per
// Config on 429 and 503.
func (s *Handler) writeError(w http.ResponseWriter, status int, body string) {
	if s.cfg.Provider == Anthropic && !strings.HasPrefix(body, `{"type":"error"`) {
		status, body = anthropicError(status)
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == 529 {
		switch s.cfg.RetryAfter {
		case RetryAfterSeconds:
			h["Retry-After"] = []string{s.retryAfterValue}
		case RetryAfterHTTPDate:
			h["Retry-After"] = []string{time.Now().Add(s.cfg.RetryAfterDelay).UTC().Format(http.TimeFormat)}
		case RetryAfterMillis:
			h["Retry-After-Ms"] = []string{s.retryAfterValue}
		}
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// answerError writes the error answer for a behaviour that was not
// admitted, and counts it.
func (s *Handler) answerError(w http.ResponseWriter, b Behavior) {
	switch b {
	case RateLimit:
		s.nRateLimited.Add(1)
		s.writeError(w, http.StatusTooManyRequests, body429)
	case Overload:
		s.nOverloaded.Add(1)
		s.writeError(w, http.StatusServiceUnavailable, body503)
	case ServerError:
		s.nServerErrors.Add(1)
		s.writeError(w, http.StatusInternalServerError, body500)
	case PaymentRequired:
		s.nPayment.Add(1)
		s.writeError(w, http.StatusPaymentRequired, body402)
	case ResetBeforeHeaders:
		s.nFaults.Add(1)
		reset(w)
	}
}
