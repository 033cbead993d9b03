// Package pacer makes calls to rate-limited LLM APIs steady.
//
// LLM APIs limit what an account may send and say so in their own ways.
// DeepSeek caps each account's concurrency per model (a level the server
// may lower under load), answers 429 the moment it is exceeded, 503 when
// the platform is overloaded, and holds a waiting request's connection open
// with blank lines or ": keep-alive" comments for up to ten minutes. OpenAI
// and Anthropic limit requests and tokens per minute, announce what is left
// in headers on every response, and answer 429 (or Anthropic's 529 when
// overloaded); a 429 can also mean the account is out of credit. pacer is a
// set of [http.RoundTripper] decorators that absorb all of this under any
// SDK that accepts an *http.Client, so go-openai, openai-go,
// anthropic-sdk-go and every OpenAI-compatible client keep working
// unchanged.
//
// # One line
//
//	client := pacer.NewClient(pacer.Config{})
//
// gives an *http.Client whose zero-value configuration is the recommended
// setup for DeepSeek, OpenAI, Anthropic and other OpenAI-compatible APIs.
// Hand it to the SDK and turn the SDK's own retries off, so that retries
// are paced here instead of multiplied there:
//
//	go-openai         ClientConfig.HTTPClient = client (it does not retry)
//	openai-go         option.WithHTTPClient(client), option.WithMaxRetries(0)
//	anthropic-sdk-go  option.WithHTTPClient(client), option.WithMaxRetries(0)
//
// openai-go and anthropic-sdk-go retry twice by default, after sleeps of
// their own that hold no permit of the gate and ignore its queue; with them
// on, every 429 the gate is paced by is answered three times.
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
//	otelpacer (logical)  one span per request as the caller sees it; token usage
//	retry                capped exponential backoff with full jitter,
//	                     Retry-After in every form, a retry budget; returns
//	                     the last real 429 or 503
//	breaker              fails fast while 503s and 529s spike; optional
//	                     fallback provider
//	quota                holds a request that the announced requests- or
//	                     tokens-per-minute window cannot take until it resets
//	concurrency          the gate: adaptive limit per key, priority queue;
//	                     holds a permit until the response body is done
//	otelpacer (attempt)  one span per attempt, with its resend count
//	keepalive            hides blank lines and ": keep-alive" comments, waits
//	                     for the first real byte, turns a connection closed
//	                     while waiting into a retryable error, ends a stream
//	                     whose content stops, and turns an error sent as a
//	                     stream's first event into the status it names
//	base                 your http.RoundTripper (a clone of
//	                     http.DefaultTransport with a larger idle pool if nil)
//
// Why this order: retry sits outside the gate, so a request sleeping in
// backoff holds no permit; the quota layer sits above the gate, so a
// request waiting for a window to reset holds no permit either; the gate
// counts every attempt until its body is done, so a ten-minute stream
// counts as in flight for ten minutes; keepalive sits on each attempt's
// response, so a connection closed before the answer started can still be
// retried.
//
// # Shared vocabulary
//
// Package transport holds what the layers share without importing one
// another: the Middleware shape, outcome classification (429, quota
// exhausted, 503, network error...), the error classes, request priority
// (Interactive before Background), the rate-limit headers, and the
// per-request record through which layers report what they did (attempts,
// waits, Retry-After) to telemetry.
//
// Package llmtest is a fake LLM API with a dynamic concurrency limit,
// 429/503/402 answers, keep-alive waits and faults: httptest for LLM APIs,
// for pacer's tests and for yours.
package pacer
