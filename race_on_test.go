//go:build race

package pacer_test

// raceSlack is the allocations the race detector adds to a request through
// the stack: under it, sync.Pool drops a share of what is put back, so the
// body scan's pooled buffer is sometimes allocated anew.
const raceSlack = 1
