// Package policy holds the constants of the adaptive limit policy, which
// runs in two places: the concurrency package's in-process limiter (in Go)
// and the redislimit package's scripts (in Lua, on the Redis server). Both
// take their constants from here, so that they cannot drift apart; the
// policytrace package holds the event traces both are tested against.
package policy

import "time"

const (
	// HoldRTTs is how many round trips a 429 holds off the next probe.
	HoldRTTs = 5
	// DropStreak is how many decreases in a row, with no success between,
	// mean a drop rather than a step down by one: the limit is halved.
	DropStreak = 3
	// GapRejects is how many times the time a 429 takes to come back a
	// probe must go without one before its levels count as fitting.
	GapRejects = 3
	// GuessShare sets the probe gap before any 429 was timed: a
	// 1/GuessShare part of a permit's hold, but no more than GapRejects
	// times the fastest response took and no less than 1/GuessShare of it.
	GuessShare = 8
	// ClimbShare bounds a probe after the cold start to a 1/ClimbShare part
	// of the limit (and at least one level).
	ClimbShare = 8
	// Smoothing is the weight (1/Smoothing) of a new sample in the moving
	// averages, and the decay of the 429 time's decaying maximum.
	Smoothing = 8
	// DefaultGap is the probe gap before any response has been timed.
	DefaultGap = time.Millisecond
	// MinGap keeps the probe gap above the noise of the scheduler.
	MinGap = 200 * time.Microsecond
	// DefaultRTT stands for the round trip before any success was timed.
	DefaultRTT = 50 * time.Millisecond
	// MaxRTT bounds the round trip the hold is counted in, so that streams
	// of many minutes hold probing off for at most HoldRTTs·MaxRTT.
	MaxRTT = 10 * time.Second
	// SlowBurst is the largest probe: the most requests sent above the
	// limit before a 429 can come back, which bounds what an overshoot of
	// the server's limit costs.
	SlowBurst = 16
	// MaxClimb bounds the climb after the cold start: a probe is at most
	// 2^MaxClimb levels, which is SlowBurst.
	MaxClimb = 4
)
