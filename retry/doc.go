// Package retry provides an [http.RoundTripper] decorator that retries
// requests to rate-limited APIs with capped exponential backoff and full
// jitter, honours the server's Retry-After hints in every form they come in,
// and keeps retries within a budget so that a struggling server is not
// hammered.
//
// Build one [Retrier] per account or upstream and share it: its retry budget
// is shared by every request that goes through it.
//
//	r := retry.New(retry.Config{})
//	client := &http.Client{Transport: r.Wrap(nil)}
//
// # What is retried
//
// By default (see [DefaultShouldRetry]): 408, 429, 500, 502, 503, 504 and
// 529 responses, and network errors after which no response was delivered
// (connection refused or reset, EOF before the headers, and errors that wrap
// [transport.ErrNoResponse], such as a connection the server closed while the
// request waited to be scheduled). Never 402 or any other 4xx, never a
// timeout or a cancelled context. On an error status, an "x-should-retry:
// true" or "false" response header overrides the status decision. [Config.ShouldRetry]
// replaces the decision altogether.
//
// # How long it waits
//
// Without a server hint the n-th retry (n = 0, 1, ...) waits a random
// duration in [0, min(MaxDelay, BaseDelay·2^n)) ("full jitter"). A server
// hint wins: the delay from [ParseRetryAfter], or else OpenAI's
// x-ratelimit-reset-requests / x-ratelimit-reset-tokens, or Anthropic's
// anthropic-ratelimit-*-reset times, when the matching remaining header is
// "0", plus a small random jitter so that
// many clients do not come back in the same millisecond. A hint beyond
// [Config.MaxRetryAfter] is not obeyed: the response is returned at once. A
// delay that would end after the context's deadline is not slept either.
// Every sleep ends at once when the request's context is done.
//
// # What it returns
//
// When retries are exhausted, denied by the budget, or not worth making, the
// last real response is returned as it is (a 429 or 503 with its body
// intact), so that SDKs raise their own typed API errors. When the last
// attempt ended in an error, the error is returned wrapped in an [*Error]
// that says how many attempts were made. When a layer below refuses to
// send a retry (an error matching [transport.ErrRejected], such as the
// breaker that opened after the previous attempt), the previous attempt's
// result is returned instead: its response, with a body of up to 64 KiB
// kept in memory while the retry waited, or its error.
//
// # The RoundTripper contract
//
// [http.RoundTripper] says a transport should not interpret responses; this
// one must, to decide what to retry. It keeps the rest of the contract: the
// caller's request is never modified (each attempt is a fresh copy, with its
// body from GetBody, or from a copy of at most [Config].MaxReplayBuffer bytes
// when the request has no GetBody); a request whose body cannot be replayed
// is sent once and never retried; every response that is not
// returned is drained (bounded) and closed before the next attempt; it
// returns a response or an error, never both.
//
// Each attempt's number, the total backoff and the Retry-After honoured are
// written to the request's [transport.Record] when it carries one, and
// [Config.OnRetry] sees each decision.
package retry
