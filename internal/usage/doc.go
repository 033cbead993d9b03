// Package usage reads the token usage an LLM API reports in a response
// body, as the body is read: the "usage" object of a JSON response, of the
// final chunk of an OpenAI-compatible event stream (sent with
// stream_options.include_usage), of the Responses API's response.completed
// event, and of Anthropic's message_start (input tokens) and message_delta
// (output tokens) events. It also reads the few fields of a request body
// that telemetry and quotas need: "model", "stream" and the output-token
// bound.
//
// A [Scanner] is fed the bytes in pieces and keeps constant memory whatever
// the body's length; a [Body] wraps a response body and feeds the scanner
// what the caller reads, with no allocation per Read. Both otelpacer and the
// quota layer use them, so the two agree on what a response used.
package usage
