// Package concurrency provides the gate: an [http.RoundTripper] decorator
// that limits the requests in flight per key (the host, or an API key),
// queues the rest fairly, and in adaptive mode finds the limit that a
// rate-limited API allows right now, and follows it as it changes.
//
//	g := concurrency.New(concurrency.Config{}) // adaptive, keyed by host
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
// # Queue
//
// While a key is at its limit, requests wait in its queue: a waiting
// [transport.Interactive] request is admitted before every waiting
// [transport.Background] one ([transport.WithPriority]), and requests of
// the same priority in arrival order. The queue is bounded
// ([Config].MaxQueue, [ErrQueueFull]) and so can the wait be
// ([Config].QueueTimeout, [ErrQueueTimeout]); a request whose context ends
// while it waits leaves the queue and no trace.
//
// # The adaptive limit
//
// The servers this is built for (DeepSeek and other OpenAI-compatible APIs)
// cap an account's concurrency at a level they change at will, answer 429
// at once above it, and punish bursts of 429s with a lower limit. Latency
// says little (a 429 is fast, an admitted request takes as long as it
// takes), so the limit is learned from 429s, from successes, and from the
// time the server kept a request waiting to be scheduled. Each admitted
// request remembers its level x (the key's requests in flight at its
// admission, itself included) and the epoch (the number of decreases so
// far). A 429 at level x proves the server's limit is below x; a success at
// level x suggests it is at least x.
//
//   - Decrease on a 429, once per burst: a 429 for a request admitted in an
//     earlier epoch was sent before the last decrease and answers nothing
//     new, so it is ignored; one round trip of 429s is one signal. When x is
//     above every level that succeeded in this epoch, the 429 is a probe that
//     failed: the limit becomes x−1, the highest level that fits, and nothing
//     is lost. When a level that succeeded in this epoch fails, the server's
//     limit dropped: the limit becomes x/2 (multiplicative decrease), and the
//     climb below finds the new level within a few round trips.
//   - The level below the last counted 429 is the ceiling. Below it, the
//     limit climbs by one per success while the gate is saturated (requests
//     queued, or in flight at the limit): it doubles every round trip, like
//     TCP slow start, so a lowered limit is regained in two or three round
//     trips and a 6 becomes a 24 in about as many.
//   - At the ceiling the gate holds for a few round trips (one, doubling up
//     to four while probes keep failing at the same level), then probes one
//     above it. A failed probe costs a single 429 and puts the limit back at
//     the ceiling; a probe that succeeds means the server's limit rose, and
//     the slow-start climb resumes until the next 429 marks the new ceiling.
//   - Increase only when saturated: successes while the gate has spare
//     permits prove nothing about the limit.
//   - Never increase on a success that waited to be scheduled
//     ([transport.Facts].ScheduleWait grew during the attempt), nor on a 503:
//     the platform is full; the current limit becomes the ceiling, and
//     probing waits for a round trip without such a sign.
//
// Compared with the classics: AIMD halves on every loss and so spends most
// of its time below a steady limit and pays a 429 for every sawtooth;
// Vegas and Netflix's Gradient2 read queueing from latency, which a server
// that rejects instead of queueing does not show; AWS's CUBIC client rate
// limiter remembers the rate at the last throttle and returns to it quickly,
// then probes slowly, which is the shape used here, with the level of the
// 429 itself telling an overshoot by one (back to x−1) from a drop (halve).
// Against a server whose limit steps 16→6→24 every two seconds with 40 ms
// requests, this keeps 429s to a few per step and a handful per second of
// probing, far below what such servers punish.
//
// # Sharing a limit between processes
//
// The gate's admission and limit state sit behind the [Limiter] interface.
// [NewLimiter] is the in-process one used by default; a limiter that keeps
// the limit in a store shared by many processes plugs in through
// [Config].Limiter without changing the gate.
package concurrency
