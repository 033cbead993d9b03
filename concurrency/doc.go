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
// reads a copy of the body's first 64 KiB from req.GetBody, never the body
// itself, and a request with no model keys by host. [HostKey] and
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
// The servers this is built for (DeepSeek and other OpenAI-compatible APIs)
// cap an account's concurrency at a level they change at will, answer 429
// at once above it, and punish bursts of 429s with a lower limit. Latency
// says little (a 429 is fast, an admitted request takes as long as it
// takes), so the limit is learned from 429s, from requests the server
// admits, and from the time it kept a request waiting to be scheduled.
// Each admitted request remembers its level x (the key's requests in
// flight at its admission, itself included) and the epoch (the number of
// decreases so far).
//
//   - Probe. Up to the limit, requests are admitted freely. When requests
//     are waiting and the limit is full, one more is admitted as a probe of
//     the level above. A 429 comes back in well under a round trip, so a
//     probe that goes three times the time a 429 takes (the gap) without
//     one fits: the limit rises to its level, and the next probe may go at
//     once. Each probe that fits doubles the next (a block of levels, at
//     most an eighth of the limit and 16), so a limit that rose far is
//     found in a few gaps, while a gate at the server's limit probes one
//     level at a time and an overshoot costs one 429. No probe goes before
//     the key's first answer (a success or a 429), when nothing says how
//     long a 429 takes.
//   - Fast cold start. Until the first 429 or sign of a full platform, a
//     probe is a block of levels, sized so that the limit grows by at most
//     [Limits].MaxGrowth (twice by default) per round trip and by at most
//     16 levels per gap: a gate that starts at 4 under a limit of 500 finds
//     it in a few seconds, and an overshoot costs at most 16 429s.
//   - Hold. A probe that fails costs its 429s and no slot (the limit is
//     unchanged), and holds probing off for five round trips, so that
//     sitting at the server's limit costs a few 429s a second, while a
//     limit that rose is found within that time. A round trip here is how
//     long a success held its permit, to the end of its body (a stream's
//     whole length), counted at most as ten seconds.
//   - Bound. Any other 429 at level x lowers the limit to x−1, and to the
//     requests still in flight if fewer: the server counts no request that
//     the gate does not count, so when it rejected, its limit was in
//     flight. This holds for every 429, so a burst sent before the first
//     429 came back can bring the limit down to what it shows, but never
//     further.
//   - One burst, one signal. Only the first of those 429s per epoch holds
//     probing off and counts toward a drop; the others were sent before
//     the decrease and only bound the limit as above. Three counted
//     decreases in a row, with no success of the epoch between, each
//     within a gap and a request's share of a round trip of the one
//     before, mean the server's limit fell far (a step down, a
//     punishment): the limit halves.
//   - Busy. A success that waited to be scheduled (its body reports a wait
//     by a ScheduleWait() time.Duration method), or a 503, means the
//     platform is full. It is learned when the response starts, not when
//     its body ends: a pending probe does not count; every raise made
//     while that request waited is undone, back to the limit it was
//     admitted under, since probes settle on the silence of 429s, long
//     before the first byte of an answer can tell of a full platform; a
//     probe that settled before such an answer came back from its level is
//     undone too; and none starts for a round trip. Nothing increases the
//     limit but a probe, and a probe starts only when requests wait.
//
// Compared with the classics: AIMD halves on every loss and so spends much
// of its time below a steady limit, paying a 429 for every sawtooth; Vegas
// and Netflix's Gradient2 read queueing from latency, which a server that
// rejects instead of queueing does not show; AWS's CUBIC client rate
// limiter remembers the rate of the last throttle and probes beyond it
// slowly. Here the level of each 429 says how far the limit is, so a step
// down costs about one 429 per request the server was still serving above
// its new limit, and a step up is found by the next probe and climbed one
// gap per level, while sitting at the server's limit costs a few 429s a
// second, far below what such servers punish.
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
