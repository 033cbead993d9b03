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
//	pacer.requests         counter, logical requests by pacer.outcome and pacer.priority
//	pacer.attempts         counter, attempts by pacer.outcome (rate_limited = 429s, overloaded = 503s) and pacer.priority
//	pacer.retries          counter, attempts after the first
//	pacer.gate.wait        histogram, s, an attempt's wait in the gate queue
//	pacer.schedule.wait    histogram, s, an attempt's wait to be scheduled (0 when not held)
//	pacer.gate.limit       gauge, current limit per pacer.gate.key
//	pacer.gate.in_flight   gauge, permits held per pacer.gate.key
//	pacer.gate.queued      gauge, requests queued per pacer.gate.key
//
// The gauges are read from [Config.Gates] at each collection. The
// per-attempt measurements (http.client.request.duration, pacer.attempts,
// pacer.gate.wait, pacer.schedule.wait) come from [Telemetry.WrapAttempt];
// in a stack without it, [Telemetry.Wrap] records them once per logical
// request.
package otelpacer
