package llmtest

import (
	"testing"
	"time"
)

const ms = time.Millisecond

func TestLimiterIntegralAcrossPhases(t *testing.T) {
	l := newLimiter([]Phase{{Limit: 2, Duration: 10 * ms}, {Limit: 6, Duration: 30 * ms}}, Punishment{})
	// One cycle is 40ms with 2*10 + 6*30 = 200 request·ms.
	for _, step := range []time.Duration{3 * ms, 7 * ms, 1 * ms, 50 * ms, 39 * ms} {
		l.advance(l.last + step)
	}
	// 100ms = 2 cycles (400) + 20ms (2*10 + 6*10 = 80) = 480 request·ms.
	if want := int64(480) * int64(ms); l.integral != want {
		t.Errorf("integral %d, want %d", l.integral, want)
	}
	if got := l.limit(95 * ms); got != 6 {
		t.Errorf("limit at 95ms = %d, want 6", got)
	}
	if got := l.limit(81 * ms); got != 2 {
		t.Errorf("limit at 81ms = %d, want 2", got)
	}
}

func TestLimiterIntegralWithPunishment(t *testing.T) {
	l := newLimiter([]Phase{{Limit: 4, Duration: 10 * ms}, {Limit: 8, Duration: 10 * ms}},
		Punishment{Threshold: 0, Window: time.Second, Factor: 0.5, Duration: 15 * ms})
	l.rejected(5 * ms) // punished from 5ms to 20ms
	l.advance(30 * ms)
	// 0-5: 4*5=20; 5-10: 2*5=10; 10-20: 4*10=40; 20-30: 4*10=40 → 110.
	if want := int64(110) * int64(ms); l.integral != want {
		t.Errorf("integral %d, want %d", l.integral, want)
	}
}

func TestLimiterAdmit(t *testing.T) {
	l := newLimiter([]Phase{{Limit: 2}}, Punishment{})
	for i, want := range []bool{true, true, false} {
		if got := l.admit(0); got != want {
			t.Fatalf("admission %d = %v, want %v", i, got, want)
		}
	}
	l.leave()
	if !l.admit(0) {
		t.Fatal("want admission after a release")
	}
	if l.peak != 2 {
		t.Errorf("peak %d", l.peak)
	}
	u := newLimiter(nil, Punishment{Duration: time.Second})
	u.rejected(0)
	if u.limit(0) != 0 || !u.admit(0) {
		t.Error("unlimited must stay unlimited, punished or not")
	}
	u.advance(time.Second)
	if u.integral != 0 {
		t.Errorf("unlimited integral %d, want 0", u.integral)
	}
}
