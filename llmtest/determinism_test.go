package llmtest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

// outcomes sends n sequential requests and returns what each saw:
// r (reset), c (cut), w (waited, then answered) or o (answered at once).
func outcomes(t *testing.T, seed int64, n int) string {
	s := llmtest.NewServer(llmtest.Config{
		Seed:        seed,
		ServiceTime: -1,
		Wait:        llmtest.Wait{Share: 0.3, Duration: 2 * time.Millisecond, Interval: time.Millisecond},
		Faults:      llmtest.Faults{ResetBeforeHeaders: 0.15, CutMidBody: 0.15},
	})
	defer s.Close()
	tr := newTransport()
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var b strings.Builder
	for range n {
		r := do(t, c, s, chatJSON)
		switch {
		case r.err != nil:
			b.WriteByte('r')
		case r.readErr != nil:
			b.WriteByte('c')
		case strings.HasPrefix(r.body, "\n"):
			b.WriteByte('w')
		default:
			b.WriteByte('o')
		}
	}
	if st := s.Stats(); st.Faults != int64(strings.Count(b.String(), "r")+strings.Count(b.String(), "c")) {
		t.Errorf("faults %d for outcomes %s", st.Faults, b.String())
	}
	return b.String()
}

func TestDeterministicForSeed(t *testing.T) {
	a, b := outcomes(t, 42, 60), outcomes(t, 42, 60)
	if a != b {
		t.Errorf("same seed, different outcomes:\n%s\n%s", a, b)
	}
	for _, k := range "rcwo" {
		if !strings.ContainsRune(a, k) {
			t.Errorf("outcomes %s lack %c", a, k)
		}
	}
	if c := outcomes(t, 7, 60); c == a {
		t.Errorf("seeds 42 and 7 gave the same outcomes %s", a)
	}
}
