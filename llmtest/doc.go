// Package llmtest provides a fake OpenAI-compatible chat completions API for
// tests: what [net/http/httptest] is for HTTP servers, llmtest is for LLM
// APIs such as DeepSeek and OpenAI.
//
// A [Server] listens on loopback and serves POST /v1/chat/completions (JSON
// and server-sent events) and GET /v1/models. Its [Server.URL] ends in /v1,
// so SDKs such as go-openai and openai-go accept it as their base URL.
// [Listen] starts one on an address of your choice, and [NewHandler]
// returns the same API as an [net/http.Handler], so that programs in other
// languages can be tested against it too.
//
// # What it simulates
//
//   - An account concurrency limit that follows a repeating schedule of
//     [Phase] values. A request above the current limit gets an immediate
//     429 with the DeepSeek/OpenAI error JSON. A request counts from its
//     admission until the last bytes of its answer are written, as a real
//     server's count ends when the response is complete, before its client
//     has read the end of it.
//   - Burst [Punishment]: too many 429s in a short window lower the limit for
//     a while.
//   - Retry-After on 429 and 503 in every form peers send ([RetryAfterMode]).
//   - Overload [Window] values answering 503 (to all, or a share of the
//     requests), an API key answering 402, one out of credit
//     ([Config.QuotaExhaustedKey]), and 401 for a wrong key.
//   - Personalities ([Provider]): DeepSeek (the default), OpenAI with
//     request and token windows ([Windows]) announced in its rate-limit
//     headers, and Anthropic's Messages API with its event stream and 529.
//   - Scheduling waits ([Wait]): status 200 first, then a blank line (JSON)
//     or ": keep-alive" (SSE) every interval, and a closed connection when
//     the wait exceeds a maximum, as DeepSeek does after ten minutes.
//   - Fault injection ([Faults]): connection reset before any response byte,
//     body cut mid-stream, slow headers; scripted streams that stall with
//     keep-alives going on, and errors sent inside a 200.
//   - Scripted behaviours ([Server.Script]) for the next requests, for tests
//     that need one exact answer.
//
// Random choices come from a generator seeded with [Config.Seed] and are
// drawn in admission order, so a sequential workload sees the same waits and
// faults on every run.
//
// [Server.Stats] counts outcomes and reports the peak number of requests in
// flight and the time integral of the effective limit, from which a
// benchmark computes the ideal goodput: [Stats.MeanLimit] divided by
// [Config.ServiceTime] (or by [AnswerTime.Mean] for log-normal answers).
//
// # Real conditions
//
// [Config.OneWayDelay] adds a network delay to each way of every request,
// [Config.AnswerTime] draws heavy-tailed answer times, and a stream lasts
// its whole answer time with its first chunk early
// ([Config.FirstChunkShare], 3% by default), as real servers stream.
//
// # Answers
//
// The answer content is a fixed sentence ([Server.Answer]) split into
// [Config.StreamChunks] pieces. Usage is deterministic: prompt_tokens is
// the number of whitespace-separated words in the request's message
// contents, completion_tokens the number of chunks, total_tokens their sum.
// The "model" field echoes the request.
package llmtest
