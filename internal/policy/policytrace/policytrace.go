// Package policytrace is the table of event traces that both
// implementations of the adaptive limit policy are tested against: the
// in-process limiter of package concurrency and the Redis scripts of
// package redislimit. Each test replays every trace through its own
// implementation and compares the limit in force after every step.
package policytrace

import (
	"time"

	"github.com/pacerhttp/pacer/transport"
)

// A Trace is a run of admissions and releases against one key, none of
// them queued: a request that may not go at once is turned away.
type Trace struct {
	Name string
	// Initial, Min and Max bound the adaptive limit; Growth is the fast
	// cold start's growth per round trip (1: off).
	Initial, Min, Max int
	Growth            float64
	Steps             []Step
}

// A Step is one event, at At after the trace's start.
type Step struct {
	At time.Duration
	// Release is false for an admission: one more request asks for a
	// permit. It is true for the release of Req, the index of an admitted
	// request in the order of admission, with Outcome (OK, RateLimited or
	// Overloaded), Latency (admission to the response headers) and Held
	// (admission to release; zero for no measure).
	Release bool
	Req     int
	Outcome transport.Outcome
	Latency time.Duration
	Held    time.Duration
	// Admitted is, for an admission, whether the request may go.
	Admitted bool
	// Limit is the limit in force after the step: the learned limit, or
	// the top level of a pending probe.
	Limit int
}

// Admit is an admission at at, expected to go or not, leaving limit in
// force.
func Admit(at time.Duration, admitted bool, limit int) Step {
	return Step{At: at, Admitted: admitted, Limit: limit}
}

// Release is the release of request req at at with outcome o, after
// latency to its headers and held in all, leaving limit in force.
func Release(at time.Duration, req int, o transport.Outcome, latency, held time.Duration, limit int) Step {
	return Step{At: at, Release: true, Req: req, Outcome: o, Latency: latency, Held: held, Limit: limit}
}

const ms = time.Millisecond

// Traces is the table.
var Traces = []Trace{
	{
		// No probe goes before an answer came back. After it, a full key
		// probes one level; a level that went a probe gap (5 ms: an eighth
		// of the 40 ms hold) without a 429 fits, and the next probe goes.
		// A failed probe leaves the limit; a 429 from within the limit
		// bounds it by its level − 1 and by the requests still in flight.
		Name: "probe, fail, bound", Initial: 2, Min: 1, Max: 8, Growth: 1,
		Steps: []Step{
			Admit(0, true, 2),
			Admit(0, true, 2),
			Admit(0, false, 2), // nothing answered yet
			Release(40*ms, 0, transport.OK, 40*ms, 40*ms, 2),
			Admit(40*ms, true, 2),                                 // request 2, level 2
			Admit(40*ms, true, 3),                                 // request 3: a probe of level 3
			Admit(41*ms, false, 3),                                // within the probe gap
			Admit(46*ms, true, 4),                                 // level 3 fits; request 4 probes 4
			Release(47*ms, 4, transport.RateLimited, ms, ms, 3),   // the probe failed
			Release(48*ms, 1, transport.RateLimited, ms, 8*ms, 1), // level 2 limited: at most 1
			Admit(49*ms, false, 1),
		},
	},
	{
		// Three decreases in a row, each soon after the one before and
		// with no success of their epoch between, are a drop: the limit
		// halves.
		Name: "drop streak", Initial: 10, Min: 1, Max: 100, Growth: 1,
		Steps: []Step{
			Admit(0, true, 10), Admit(0, true, 10), Admit(0, true, 10), Admit(0, true, 10), Admit(0, true, 10),
			Admit(0, true, 10), Admit(0, true, 10), Admit(0, true, 10), Admit(0, true, 10), Admit(0, true, 10),
			Release(40*ms, 0, transport.OK, 40*ms, 40*ms, 10),
			Release(41*ms, 9, transport.RateLimited, ms, 41*ms, 8), // level 10: at most 9, and 8 in flight
			Release(42*ms, 8, transport.RateLimited, ms, 42*ms, 7), // an older epoch's: a bound only
			Release(42*ms, 1, transport.OK, 42*ms, 42*ms, 7),       // an older epoch's success
			Admit(43*ms, true, 7),                                  // request 10, level 7
			Release(44*ms, 10, transport.RateLimited, ms, ms, 6),   // the second decrease
			Release(45*ms, 2, transport.OK, 45*ms, 45*ms, 6),
			Admit(45*ms, true, 6),                                // request 11, level 6
			Release(46*ms, 11, transport.RateLimited, ms, ms, 3), // the third: halved
			Admit(47*ms, false, 3),
		},
	},
	{
		// The same decreases, the third long after the second (more than a
		// probe gap and a request's share of a round trip): the limit found
		// again one level at a time, not a drop.
		Name: "decreases apart", Initial: 10, Min: 1, Max: 100, Growth: 1,
		Steps: append(admitN(10, 10),
			Release(40*ms, 0, transport.OK, 40*ms, 40*ms, 10),
			Release(41*ms, 9, transport.RateLimited, ms, 41*ms, 8),
			Release(42*ms, 8, transport.RateLimited, ms, 42*ms, 7),
			Release(42*ms, 1, transport.OK, 42*ms, 42*ms, 7),
			Admit(43*ms, true, 7),
			Release(44*ms, 10, transport.RateLimited, ms, ms, 6),
			Release(45*ms, 2, transport.OK, 45*ms, 45*ms, 6),
			Admit(45*ms, true, 6),
			Release(60*ms, 11, transport.RateLimited, ms, 15*ms, 5), // 16 ms after the second
			Admit(61*ms, false, 5),
		),
	},
	{
		// The fast cold start probes in blocks: at 400 ms holds and a 50 ms
		// gap, doubling per round trip is 2^(1/8) per gap, a block of
		// 9 % of the limit. A sign that the platform is full ends the cold
		// start and undoes the raise made since the busy request went.
		Name: "cold start blocks, busy", Initial: 40, Min: 1, Max: 10000, Growth: 2,
		Steps: append(admitN(40, 40),
			Release(400*ms, 0, transport.OK, 400*ms, 400*ms, 40),
			Admit(400*ms, true, 40), // request 40, level 40
			Admit(400*ms, true, 43), // request 41: a block of 3 levels
			Admit(400*ms, true, 43),
			Admit(400*ms, true, 43),
			Admit(410*ms, false, 43), // the block is out
			Admit(451*ms, true, 46),  // 43 fits; the next block
			Release(460*ms, 41, transport.Overloaded, 60*ms, 60*ms, 40),
			Admit(460*ms, false, 40),
		),
	},
}

// admitN is n admissions at the start, each expected to go, leaving limit.
func admitN(n, limit int) []Step {
	s := make([]Step, n)
	for i := range s {
		s[i] = Admit(0, true, limit)
	}
	return s
}
