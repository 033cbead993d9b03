//go:build !race

package pacer_test

// raceSlack is zero without the race detector: see race_on_test.go.
const raceSlack = 0
