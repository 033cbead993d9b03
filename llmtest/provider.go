package llmtest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Provider selects whose API a server speaks. Each personality follows
// its provider's published API reference for the parts it serves.
type Provider int

const (
	// DeepSeek is an OpenAI-compatible chat-completions API that limits
	// concurrency (per account, and per model with Config.Models), answers
	// 402 when the balance is out, and holds a waiting request open with
	// keep-alives (Config.Wait). It is the default.
	DeepSeek Provider = iota
	// OpenAI is the chat-completions API limited by requests and tokens
	// per window (Config.Windows), announced on every response with
	// x-ratelimit-{limit,remaining,reset}-{requests,tokens} (resets as
	// durations such as "1s" or "6m0s", and retry-after-ms on a window's
	// 429), and a 429 whose body names
	// insufficient_quota for a key out of credit (Config.QuotaExhaustedKey).
	// Its requests carry x-request-id.
	OpenAI
	// Anthropic is the Messages API: POST /v1/messages with the key in
	// x-api-key (or, as anthropic-sdk-go sends it, "Authorization: Bearer"),
	// answers as "message" objects or the Messages event stream
	// (message_start, content_block_start, ping, content_block_delta,
	// content_block_stop, message_delta, message_stop), errors as
	// {"type":"error","error":{"type":...,"message":...}}, 529
	// overloaded_error for an overload, and the windows announced with
	// anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}
	// (resets as RFC 3339 times) and retry-after on a 429. A key out of
	// credit gets 400 invalid_request_error, as Anthropic answers a credit
	// balance too low.
	Anthropic
)

var providerNames = [...]string{DeepSeek: "DeepSeek", OpenAI: "OpenAI", Anthropic: "Anthropic"}

// String returns the personality's name, such as "OpenAI".
func (p Provider) String() string {
	if p >= 0 && int(p) < len(providerNames) {
		return providerNames[p]
	}
	return "Provider(" + strconv.Itoa(int(p)) + ")"
}

// Windows limits an account by requests and tokens per fixed window, as
// OpenAI and Anthropic do per minute. A request is counted when it
// arrives, at one request and its body's length / 4 plus its max_tokens
// (or max_completion_tokens) in tokens; one that either window cannot take
// gets 429. Every chat response, 429s included, announces the windows in
// the personality's headers (the DeepSeek personality uses OpenAI's).
type Windows struct {
	// Requests and Tokens are the limits per window; zero means none.
	Requests, Tokens int64
	// Period is the window's length; zero means one minute.
	Period time.Duration
	// NoHint leaves the wait out of a window's 429 (the OpenAI
	// personality's retry-after-ms, the Anthropic one's retry-after), as
	// some compatible gateways do: only the rate-limit headers tell when
	// the window resets.
	NoHint bool
}

func (w Windows) on() bool { return w.Requests > 0 || w.Tokens > 0 }

// windowState is the current window's count; guarded by Handler.mu.
type windowState struct {
	index          int64 // which window, from the handler's start
	requests, toks int64
}

// charge counts a request of the given token cost in the current window
// and reports whether the windows took it; it sets the rate-limit headers
// on h either way.
func (s *Handler) charge(h http.Header, cost int64) bool {
	w := s.cfg.Windows
	s.mu.Lock()
	now := s.now()
	if k := int64(now / w.Period); k != s.win.index {
		s.win = windowState{index: k}
	}
	ok := (w.Requests == 0 || s.win.requests+1 <= w.Requests) && (w.Tokens == 0 || s.win.toks+cost <= w.Tokens)
	if ok {
		s.win.requests++
		s.win.toks += cost
	}
	used := s.win
	resetIn := time.Duration(used.index+1)*w.Period - now
	s.mu.Unlock()

	// The personality's header names and reset form: Anthropic's RFC 3339
	// times, or OpenAI's durations (which the DeepSeek personality borrows).
	anthropic := s.cfg.Provider == Anthropic
	name := func(field, kind string) string { return "X-Ratelimit-" + field + "-" + kind }
	reset := resetIn.Round(time.Millisecond).String()
	if anthropic {
		name = func(field, kind string) string { return "Anthropic-Ratelimit-" + kind + "-" + field }
		reset = s.start.Add(time.Duration(used.index+1) * w.Period).UTC().Format(time.RFC3339Nano)
	}
	set := func(kind string, limit, used int64) {
		h[name("Limit", kind)] = []string{strconv.FormatInt(limit, 10)}
		h[name("Remaining", kind)] = []string{strconv.FormatInt(max(limit-used, 0), 10)}
		h[name("Reset", kind)] = []string{reset}
	}
	if w.Requests > 0 {
		set("Requests", w.Requests, used.requests)
	}
	if w.Tokens > 0 {
		set("Tokens", w.Tokens, used.toks)
	}
	switch {
	case ok || w.NoHint:
	case anthropic:
		h["Retry-After"] = []string{strconv.FormatInt(int64((resetIn+time.Second-1)/time.Second), 10)}
	case s.cfg.Provider == OpenAI:
		h["Retry-After-Ms"] = []string{strconv.FormatInt(int64((resetIn+time.Millisecond-1)/time.Millisecond), 10)}
	}
	return ok
}

// Error bodies of the Anthropic personality.
const (
	anthropicOverloaded = `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
	bodyQuota           = `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`
	anthropicCredit     = `{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}`
)

// anthropicError is the Anthropic form of an error answer: the status it
// has there (a 503 is a 529) and its body.
func anthropicError(status int) (int, string) {
	typ, msg := "api_error", "Internal server error"
	switch status {
	case http.StatusBadRequest, http.StatusMethodNotAllowed:
		typ, msg = "invalid_request_error", "Invalid request"
	case http.StatusUnauthorized:
		typ, msg = "authentication_error", "invalid x-api-key"
	case http.StatusPaymentRequired:
		typ, msg = "billing_error", "Billing error"
	case http.StatusNotFound:
		typ, msg = "not_found_error", "Not found"
	case http.StatusTooManyRequests:
		typ, msg = "rate_limit_error", "Number of requests has exceeded your rate limit"
	case http.StatusServiceUnavailable, 529:
		return 529, anthropicOverloaded
	}
	return status, `{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"}}`
}

// requestKey is the API key a request carries in the personality's header.
func (s *Handler) requestKey(r *http.Request) string {
	if s.cfg.Provider == Anthropic {
		if key := r.Header.Get("X-Api-Key"); key != "" {
			return key
		}
	}
	key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return key
}

// chatPath is the path the personality answers chats on.
func (s *Handler) chatPath() string {
	if s.cfg.Provider == Anthropic {
		return "/v1/messages"
	}
	return "/v1/chat/completions"
}
