// Package otelpacer provides OpenTelemetry tracing and metrics for pacer stacks:
// a span per logical request and a span per attempt, the pacing facts the
// other layers report, and GenAI token usage read from chat responses as the
// caller reads them.
//
// It is named as OpenTelemetry's contrib names its instrumentation (otel
// and the target), so it sits beside go.opentelemetry.io/otel without an
// import alias.
//
//	tel := otelpacer.New(otelpacer.Config{Gates: []otelpacer.GateStats{gate}})
//	rt := transport.Chain(nil, tel.Wrap, retrier.Wrap, breaker.Wrap, gate.Wrap, tel.WrapAttempt, keepalive.Wrap)
//
// One [Telemetry] gives both layers: [Telemetry.Wrap] outermost (one span
// for what the caller asked), [Telemetry.WrapAttempt] under retry, breaker
// and gate (one span per send). They find each other through the request's
// context and read what retry, gate, breaker and keepalive write to the
// request's [transport.Record]; no layer imports another.
//
// # Cost when nothing listens
//
// With no SDK installed (the global providers before one is installed, or
// the no-op providers), each layer sees that no span can be recorded and no
// instrument is enabled, and passes the request through untouched: no span
// started, no body wrapper, no request copy, no parsing, no allocation. An
// SDK installed globally later is used from the next request on. With other
// providers, a layer starts its span and passes through when it is not
// recording and no instrument is enabled.
//
// # Spans
//
// The logical span of a chat completion (POST …/chat/completions) is named
// "chat {model}" with kind CLIENT and carries gen_ai.operation.name,
// gen_ai.provider.name, gen_ai.request.model, gen_ai.request.stream,
// gen_ai.response.model, gen_ai.usage.input_tokens and
// gen_ai.usage.output_tokens; any other request gives "HTTP {method}". Both
// carry http.request.method, server.address, server.port, url.full,
// http.response.status_code, error.type, and pacer's facts:
//
//	pacer.attempts       attempts sent
//	pacer.backoff        seconds slept between attempts
//	pacer.retry_after    seconds of the last Retry-After honoured
//	pacer.gate.wait      seconds queued in the concurrency gate
//	pacer.gate.key       the gate key
//	pacer.schedule.wait  seconds the server held the response before scheduling it
//	pacer.breaker.state  breaker state met by the last attempt
//	pacer.fallback       true when the fallback transport answered
//	pacer.stalled        true when the keep-alive filter ended a stopped response
//	pacer.outcome        the transport.Outcome name ("ok", "rate_limited", …)
//
// An attempt span is named after the method and carries the HTTP attributes,
// http.request.resend_count on every resend (1 on the second attempt), the
// attempt's own gate wait, scheduling wait and outcome.
//
// Spans end when the response body reaches EOF, fails or is closed, so a
// stream's span covers the whole stream.
//
// The model is read from a copy of the request body made by GetBody (as SDKs
// requests have), at most 1 MiB of it; without GetBody it is not read. Usage
// and the response model are scanned from the bytes the caller reads, with
// constant memory: the "usage" object of a JSON response, or of the final
// usage chunk of a stream sent with stream_options.include_usage.
//
// # Secrets
//
// No header is recorded, so Authorization, api-key, x-api-key and cookies
// never are. url.full has no user information, and the value of every
// query parameter is replaced by "REDACTED" but for a short allowlist of
// harmless ones (api-version, alt, beta, stream, limit, after, before,
// order), since a credential may hide under any name. Error messages are not
// recorded either (they may quote a URL); error.type is the status code,
// "stalled" for a response the keep-alive filter ended because its content
// stopped (keepalive.ErrStalled), or the outcome name. Gate keys are recorded as the gate reports them.
//
// # Metrics
//
// From the semantic conventions:
//
//	http.client.request.duration      histogram, s, per attempt, until its body ended
//	gen_ai.client.operation.duration  histogram, s, per chat request, until its body ended
//	gen_ai.client.token.usage         histogram, {token}, gen_ai.token.type input or output
//
// pacer's own, under "pacer.":
//
//	pacer.requests         counter, {request}, logical requests by pacer.outcome and pacer.priority
//	pacer.attempts         counter, {attempt}, attempts by pacer.outcome (rate_limited = 429s, overloaded = 503s) and pacer.priority
//	pacer.retries          counter, {retry}, attempts after the first
//	pacer.retries.refused  counter, {retry}, logical requests whose retry the retry budget refused
//	pacer.gate.wait        histogram, s, an attempt's wait in the gate queue
//	pacer.schedule.wait    histogram, s, an attempt's wait to be scheduled (0 when not held)
//	pacer.gate.limit       gauge, {request}, current limit per pacer.gate.key
//	pacer.gate.in_flight   gauge, {request}, permits held per pacer.gate.key
//	pacer.gate.queued      gauge, {request}, requests queued per pacer.gate.key
//	pacer.breaker.status   up-down counter, 1, per pacer.breaker.key and pacer.breaker.state
//	pacer.ratelimit.limit      gauge, {unit}, a window's size per pacer.gate.key and pacer.ratelimit.kind
//	pacer.ratelimit.remaining  gauge, {unit}, what is left of it (requests or tokens, as the kind says)
//
// pacer.retries.refused counts the logical requests that ended with
// [transport.Facts.RetryRefused] set: the retry layer wanted another
// attempt and its retry budget refused it.
//
// # One key label
//
// Every pacer metric about a gate key carries it as pacer.gate.key, with
// the same value: the counters and histograms above take it from
// [transport.Facts.GateKey] (the key of the request's last attempt), the
// gauges from the gate's [GateStats.EachKey]. So the 429s of a key
// (pacer.attempts{pacer.outcome="rate_limited"}) sit beside its limit
// (pacer.gate.limit) without rewriting labels. The attribute is absent when
// no gate is in the stack. The counters and histograms also keep
// server.address (the host without port); the conventions' own metrics carry
// only the conventions' attributes.
//
// A gate key is the gate's own, by default the request URL's host (with a
// port when the URL names one)
// followed by its model ("api.deepseek.com deepseek-v4-pro"), so
// pacer.gate.key has one value per host and model in use: as bounded as the
// models a program calls. A gate keyed per user (concurrency.UserKey) or by
// a Config.Key of the caller's makes one series per key it returns; keep
// such keys few, and never a secret.
//
// # Breaker state
//
// pacer.breaker.status follows the conventions' shape for a state: an
// up-down counter named ….status with unit 1, one series per circuit
// (pacer.breaker.key, by default the host) and state (pacer.breaker.state:
// closed, half-open or open), 1 for the state the circuit is in and 0 for
// the other two. Summing by state counts the circuits in each; "open == 1"
// is the alert. It is read from [Config.Breakers] at each collection, so it
// is the breaker's own view: a circuit whose open delay has passed reads
// open until the next request half-opens it.
//
// # Buckets
//
// The request and operation durations run until the body ends, so a
// streamed answer is measured whole: their buckets start with the
// conventions' advisory boundaries and go on to ten minutes (600 s and
// 655.36 s), the longest a server keeps a connection without inference.
// The waits use buckets from a millisecond to ten minutes.
//
// The gauges are read from [Config.Gates], [Config.Breakers] and
// [Config.RateLimits] at each collection. The rate-limit gauges show the
// windows servers announce in their x-ratelimit-* or anthropic-ratelimit-*
// headers, as the quota layer believes them (its reservations included),
// one series per key and kind: "requests", "tokens", "input_tokens",
// "output_tokens". The per-attempt measurements (http.client.request.duration,
// pacer.attempts, pacer.gate.wait, pacer.schedule.wait) come from
// [Telemetry.WrapAttempt]; in a stack without it, [Telemetry.Wrap] records
// them once per logical request.
package otelpacer
