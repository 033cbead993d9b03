// Package keepalive provides response-body filters that hide the keep-alive
// bytes an LLM API sends while a request waits to be scheduled, and a layer
// that turns a connection closed during that wait into a retryable error.
//
// While a request waits for inference to start, DeepSeek has already sent
// status 200 and keeps the connection open: a non-streaming response gets
// blank lines before its JSON, a streaming one gets SSE comment lines
// (": keep-alive"). If inference never starts, the server closes the
// connection. Clients break on this: go-openai counts every comment line as
// an empty message and fails the stream after a few hundred of them, and
// every SDK reports "unexpected EOF" for the closed connection, too late for
// any retry because the 200 was already accepted.
//
// # Readers
//
// [NewJSONReader] drops the whitespace before the first byte of a JSON body.
// [NewSSEReader] drops SSE comment lines and the blank lines that would
// dispatch nothing, following the SSE line rules exactly, so that the events
// a parser reads are unchanged. Both filter in place in the caller's buffer,
// allocate nothing per Read, and never hold back a byte they pass.
//
// # The layer
//
// [New] returns a [Filter]; its Wrap method is a [transport.Middleware].
// The wrapped transport applies the readers to JSON and event-stream
// responses and does not return from RoundTrip until the first byte of real
// content arrives. A connection closed during that wait becomes an error
// matching [ErrClosedWhileWaiting] and [transport.ErrNoResponse], which the
// retry layer treats as safe to retry; [Config.MaxWait] bounds the wait
// ([ErrWaitTimeout]); the request's context ends it at once. The time spent
// receiving keep-alives is added to the request's [transport.Record] as
// ScheduleWait, when it carries one, and reported by the body it returns
// (a ScheduleWait() time.Duration method).
//
// For a stream, the wait goes on past the first real byte to the end of
// the first event (at most 8 KiB of it), which is read before RoundTrip
// returns. A stream cut or stalled before then fails the same retryable
// way, since nothing of it reached the caller. When that first event is an
// error a server sends inside a 200 instead of a status (a JSON "error"
// member, or an "error" event, naming a rate limit, a lack of credit or an
// overload: see Wrap), RoundTrip returns the response the error names
// (429, 402, 529 or 503) with the event's JSON as its body, so that the
// retry layer, the gate and the breaker see what really happened.
//
// # Stalls
//
// Once a response has started, [Config.IdleTimeout] (five minutes by
// default) bounds how long a Read waits for real content while only
// keep-alives come, or nothing: a stream that stops producing while its
// connection stays open ends with [ErrStalled] and its connection closed,
// where it would otherwise hang until the request's own deadline. The
// deadline is one timer per response that re-arms itself; a Read costs a
// clock reading and no allocation.
//
// In the recommended stack the filter sits closest to the base transport,
// so that each attempt's response is filtered and a closed wait fails only
// that attempt.
package keepalive
