package retry

import (
	"context"
	"time"
)

// backoff returns the delay before retry n (0 for the first retry): a random
// duration in [0, min(r.maxDelay, base·2^n)).
func (r *Retrier) backoff(n int, base time.Duration) time.Duration {
	ceil := base
	for i := 0; i < n && ceil < r.maxDelay; i++ {
		ceil *= 2
	}
	if ceil > r.maxDelay || ceil <= 0 {
		ceil = r.maxDelay
	}
	return r.random(ceil)
}

// hintJitter returns the random delay added to a server hint so that the
// clients it was sent to do not all come back in the same millisecond: up to
// a tenth of the hint, at least [minHintJitter] and at most [maxHintJitter].
func (r *Retrier) hintJitter(hint time.Duration) time.Duration {
	return r.random(min(max(hint/10, minHintJitter), maxHintJitter))
}

const (
	minHintJitter = 10 * time.Millisecond
	maxHintJitter = time.Second
)

// random returns a duration in [0, n), or 0 when n <= 0.
func (r *Retrier) random(n time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(r.rand(int64(n)))
}

// sleepContext waits for d, or until ctx is done, whichever comes first; it
// returns the context's error in the second case.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
