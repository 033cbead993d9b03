// Package pacer makes calls to rate-limited LLM APIs steady.
//
// APIs such as DeepSeek's publish no fixed rate limit: they cap each
// account's concurrency at a level that moves with load, answer 429 the
// moment it is exceeded (and lower it for accounts that keep bursting),
// answer 503 when the platform is overloaded, and hold a waiting request's
// connection open with blank lines or ": keep-alive" comments for up to ten
// minutes. pacer is a set of [http.RoundTripper] decorators that absorb all
// of this under any SDK that accepts an *http.Client, so go-openai,
// openai-go and every OpenAI-compatible client keep working unchanged.
//
// # One line
//
//	client := pacer.NewClient(pacer.Config{})
//
// gives an *http.Client whose zero-value configuration is the recommended
// setup for DeepSeek and OpenAI-style APIs. Hand it to the SDK (go-openai's
// ClientConfig.HTTPClient, openai-go's option.WithHTTPClient) and turn the
// SDK's own retries off, so that retries are paced here instead of
// multiplied there.
//
// # The layers
//
// Each layer is a package with one job, configured once and shared by every
// client that talks to the same account. Each exposes a Wrap method, a
// [transport.Middleware], so a stack reads as what it builds:
//
//	transport.Chain(base, r.Wrap, b.Wrap, g.Wrap, k.Wrap)
//
// The layers, outermost first, in the order [New] stacks them:
//
//	otel (logical)  one span per request as the caller sees it; token usage
//	retry           capped exponential backoff with full jitter, Retry-After
//	                in every form, a retry budget; returns the last real 429
//	breaker         fails fast while 503s spike; optional fallback provider
//	concurrency     the gate: adaptive limit per key, priority queue; holds a
//	                permit until the response body is done
//	otel (attempt)  one span per attempt, with its resend count
//	keepalive       hides blank lines and ": keep-alive" comments, waits for
//	                the first real byte, turns a connection closed while
//	                waiting into a retryable error
//	base            your http.RoundTripper (http.DefaultTransport if nil)
//
// Why this order: retry sits outside the gate, so a request sleeping in
// backoff holds no permit; the breaker sees every attempt; the gate counts
// every attempt until its body is done, so a ten-minute stream counts as
// in flight for ten minutes; keepalive sits on each attempt's response, so a
// connection closed before the answer started can still be retried.
//
// # Shared vocabulary
//
// Package transport holds what the layers share without importing one
// another: the Middleware shape, outcome classification (429, 503, network
// error...), request priority (Interactive before Background), body replay,
// body-done hooks, and the per-request record through which layers report
// what they did (attempts, waits, Retry-After) to telemetry.
//
// Package llmtest is a fake OpenAI-compatible API with a dynamic concurrency
// limit, 429/503/402 answers, keep-alive waits and faults: httptest for LLM
// APIs, for pacer's tests and for yours.
package pacer
