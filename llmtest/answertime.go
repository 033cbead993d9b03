package llmtest

import (
	"math"
	"time"
)

// AnswerTime draws each answer's service time from a log-normal
// distribution, as real LLM answers take: most near the median, a heavy
// tail of long ones. The zero value (Median 0) leaves [Config.ServiceTime]
// in force for every answer.
//
// A service time is Median·exp(Sigma·Z) for a standard normal Z drawn from
// a generator of its own seeded with [Config.Seed], in admission order;
// Sigma 0 means every answer takes Median. Max, when positive, caps each
// draw. Sigma 0.5 puts the 99th percentile at about 3.2 times the median,
// Sigma 1 at about 10 times.
type AnswerTime struct {
	Median time.Duration
	Sigma  float64
	Max    time.Duration
}

// Mean returns the distribution's mean, Median·exp(Sigma²/2), ignoring
// Max: divide [Stats.MeanLimit] by it for the ideal goodput.
func (a AnswerTime) Mean() time.Duration {
	return time.Duration(float64(a.Median) * math.Exp(a.Sigma*a.Sigma/2))
}

// at returns the service time for the standard normal z.
func (a AnswerTime) at(z float64) time.Duration {
	d := time.Duration(float64(a.Median) * math.Exp(a.Sigma*z))
	if a.Max > 0 {
		d = min(d, a.Max)
	}
	return max(d, 0)
}

// serviceTime returns the service time of the next admitted answer.
func (s *Handler) serviceTime() time.Duration {
	if s.cfg.AnswerTime.Median <= 0 {
		return s.cfg.ServiceTime
	}
	s.mu.Lock()
	z := s.svcRng.NormFloat64()
	s.mu.Unlock()
	return s.cfg.AnswerTime.at(z)
}

// chunkTimes returns, for a stream of n content chunks lasting d, when
// each chunk is due, as offsets from the start of the answer: the first at
// share·d, the others evenly over the rest, the last at d.
func chunkTimes(dst []time.Duration, n int, d time.Duration, share float64) []time.Duration {
	first := time.Duration(share * float64(d))
	dst = append(dst[:0], first)
	for i := 1; i < n; i++ {
		dst = append(dst, first+time.Duration(int64(d-first)*int64(i)/int64(n-1)))
	}
	return dst
}
