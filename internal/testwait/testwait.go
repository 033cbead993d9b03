// Package testwait is the one polling helper the tests use where a real
// socket rules out testing/synctest: it waits for a condition, bounded.
package testwait

import (
	"testing"
	"time"
)

// Bound is how long [For] waits before failing the test: far beyond what
// any condition takes on a loaded machine, so that only a real hang fails.
const Bound = 10 * time.Second

// For polls cond every millisecond until it holds, and fails the test with
// what (formatted as fmt.Sprintf does) when it has not held within [Bound].
func For(t testing.TB, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(Bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for: "+what, append([]any{Bound}, args...)...)
		}
		time.Sleep(time.Millisecond)
	}
}

// Until polls cond every millisecond until it holds, and reports whether it
// held within [Bound]. Unlike [For] it may be called from any goroutine.
func Until(cond func() bool) bool {
	deadline := time.Now().Add(Bound)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}
