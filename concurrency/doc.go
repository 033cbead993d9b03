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
// far): a 429 at level x says the server's limit was below x.
//
//   - One burst, one signal. A 429 or a success for a request admitted in an
//     earlier epoch was sent before the last decrease and is ignored, so a
//     round trip's worth of 429s is one signal and the limit never
//     collapses on a burst.
//   - Overshoot: a 429 above the ceiling (the highest level believed to
//     fit) sets the limit and the ceiling to x−1, the level just below the
//     one that failed. Nothing is lost: it is the level that was working.
//   - Dip: a 429 at or below the ceiling steps the limit to x−1 but keeps
//     the ceiling, and the next success climbs back. Such a 429 is usually
//     the server still counting a request that has just ended for us; a
//     second one at the ceiling before a full hold lowers the ceiling.
//   - Drop: three counted 429s in a row, each after a decrease, with no
//     success between, mean the server's limit fell (a step down, or a
//     punishment): the limit halves, the ceiling is forgotten, and the climb
//     below finds the new level.
//   - Climb: below the ceiling, or with none known, each success while the
//     gate is saturated (requests queued, or in flight at the limit) adds
//     one: the limit doubles every round trip, like TCP slow start. Levels
//     above the highest one known to work are admitted one at a time, each
//     after a gap of three times the slowest recent 429 (an eighth of the
//     fastest response before any 429 was seen), so an overshoot costs one
//     429, not a round trip's worth.
//   - Hold and probe: at the ceiling the gate holds for one round trip, then
//     probes one above it. A failed probe costs a single 429 and doubles the
//     hold (up to four round trips); a probe that succeeds means the
//     server's limit rose, and the climb goes on until the next overshoot.
//   - Never increase while unsaturated, nor on a success that waited to be
//     scheduled ([transport.Facts].ScheduleWait grew during the attempt),
//     nor on a 503: the platform is full; the current limit becomes the
//     ceiling, and probing waits for a round trip without such a sign.
//
// Compared with the classics: AIMD halves on every loss and so spends much
// of its time below a steady limit, paying a 429 for every sawtooth; Vegas
// and Netflix's Gradient2 read queueing from latency, which a server that
// rejects instead of queueing does not show; AWS's CUBIC client rate
// limiter remembers the rate of the last throttle, returns to it fast and
// probes beyond it slowly, which is the shape used here, with the level of
// each 429 telling an overshoot by one (step back to x−1) from a drop
// (halve). Against a server whose limit steps 16→6→24 every two seconds
// with 40 ms requests, this keeps 429s to a few per step and a few per
// second of probing, far below what such servers punish, and follows a
// step within a few round trips.
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
