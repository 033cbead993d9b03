// Package concurrency provides the gate: an [http.RoundTripper] decorator
// that limits the requests in flight per key (the host and model, or an
// API key), queues the rest fairly, and in adaptive mode finds the limit
// that a rate-limited API allows right now, and follows it as it changes.
//
//	g := concurrency.New(concurrency.Config{}) // adaptive, keyed by host and model
//	client := &http.Client{Transport: g.Wrap(nil)}
//
// Share one [Gate] between every client that uses the same account. Put the
// retry layer outside it, so that a request sleeping in backoff holds no
// permit, and the keep-alive layer inside it, so that the gate hears how
// long the server queued each request.
//
// # Permits
//
// A request holds a permit from admission until its response body reaches
// EOF, fails or is closed: a ten-minute stream is in flight for ten minutes.
// Every path returns the permit exactly once (an error or panic in the
// transport under the gate, a cancelled context, a body closed unread).
// This bends the [http.RoundTripper] contract in one way: a caller that
// never closes a response body keeps its permit forever, as it would keep
// its connection.
//
// # Keys
//
// Each key has its own limit, queue and learned state. The default key,
// [ModelKey], is the host and the top-level "model" of the request's JSON
// body, since providers such as DeepSeek limit each model on its own; it
// reads a copy of the body from req.GetBody as far as the model and never
// past its first 64 KiB, never the body itself, and a request with no
// model keys by host. [HostKey] and
// [UserKey] key coarser and finer. A gate keeps the state of every key it
// has seen for as long as it lives, so a key should name something of
// which there are few (hosts, models, accounts); model and user names
// longer than 256 bytes are left out of a key.
//
// # Queue
//
// While a key is at its limit, requests wait in its queue: a waiting
// [transport.Interactive] request is admitted before every waiting
// [transport.Background] one ([transport.WithPriority]), and requests of
// the same priority in arrival order. The queue is bounded
// ([Limits].MaxQueue, [ErrQueueFull]) and so can the wait be
// ([Limits].QueueTimeout, [ErrQueueTimeout]); a request whose context ends
// while it waits leaves the queue and no trace.
//
// # The adaptive limit
//
// When [Limits].Limit is zero the gate learns each key's limit from the
// 429s, from the requests the server admits, and from signs that the
// platform is full: a 503 or 529, or a success that the server kept
// waiting to be scheduled (its body reports the wait by a
// ScheduleWait() time.Duration method, as the keepalive layer's do). What
// it promises:
//
//   - The limit rises only by probes: requests admitted above it while
//     others wait at a full key, never before the key's first answer. A
//     level that goes three times the time a 429 takes without one fits.
//   - A 429 at level x (the requests in flight at its admission, itself
//     included) brings the limit to at most x−1 and to the requests still
//     in flight. Three quick decreases in a row, with no success between,
//     halve it. A failed probe leaves it where it was and holds probing
//     off for five round trips (a permit's whole hold, a stream's whole
//     length, counted as at most ten seconds).
//   - A sign of a full platform undoes the raises made while that request
//     waited and holds probing off for a round trip.
//   - Until the first 429 or sign of a full platform, the limit grows by
//     at most [Limits].MaxGrowth per round trip, and never more than 16
//     requests go above it before a 429 can come back.
//
// The algorithm, why it is built so, and how it compares with AIMD,
// Vegas and Gradient2 are in docs/adaptive-limit.md in the repository.
//
// [Gate.Stats] reports the limit in force; [Config].OnLimit sees every
// change.
//
// # Sharing a limit between processes
//
// The gate's admission and limit state sit behind the [Limiter] interface.
// [NewLimiter] is the in-process one used by default; a limiter that keeps
// the limit in a store shared by many processes plugs in through
// [Config].Limiter without changing the gate.
package concurrency
