// Package quota provides a layer that paces requests under the windowed
// limits a server announces (requests and tokens per minute, as OpenAI and
// Anthropic do), so that a request the window cannot take waits for the
// window to reset instead of being sent into a 429.
//
// # The model
//
// OpenAI and compatible providers answer every request with
// x-ratelimit-{limit,remaining,reset}-{requests,tokens} headers, and
// Anthropic with anthropic-ratelimit-*-{limit,remaining,reset}. A [Quota]
// keeps, per key (host and model by default, as those providers count),
// the latest of each: the limit, what remains, and when the window is next
// full. Before sending a request it estimates the request's cost — one
// request; the body's length / 4 input tokens; the body's max_tokens or
// max_completion_tokens output tokens — and reserves it. When a window
// does not cover the reservation, the request waits until that window
// resets ([Config].MaxWait bounds how far ahead that may be), in priority
// order ([transport.Priority]), in a bounded queue, for as long as its
// context allows. When the reset comes, the window is taken to be full
// again, and the first response after it says how full it really is.
//
// Each response's headers correct what the layer believed. Within a
// window the server's count only grows, so the least remaining any report
// announced counts every request that reached the server before the one it
// answered; the layer believes that, less every reservation not answered
// yet — never more than really remains, and exactly that once the answers
// are in. Reports on requests sent before a window reset speak of the old
// window and are not believed. Resets are taken [Config].ResetMargin late,
// because servers round them. When the response body reports the real
// token usage ([Config].Refunds says whether the server gives back what it
// charged beyond it), the reservation is settled to it.
//
// # Without headers
//
// A server that sends no rate-limit headers is left alone: the layer looks
// at each response's headers, and at one response in sixteen once a host
// has answered a thousand responses without any; it scans no body, takes
// no lock and allocates nothing. DeepSeek, which limits concurrency rather
// than windows, is served by the concurrency gate alone.
//
// # In a stack
//
// The layer belongs under retry and the breaker and above the concurrency
// gate: a request waiting for a window holds no permit of the gate, and a
// retried request is paced like any other. Errors from a wait are
// [*WaitError] values that match [transport.ErrRejected], which the retry
// layer does not retry and the breaker does not count. [Quota.Stats] shows
// what each key has left.
//
// Share one Quota between every client that spends the same account's
// windows; with several processes on one account, each sees the others'
// spending only through the server's headers, a response later.
package quota
