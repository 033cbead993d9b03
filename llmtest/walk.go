package llmtest

import (
	"math"
	"math/rand/v2"
	"time"
)

// Walk makes a limit follow a seeded random walk instead of a schedule of
// phases: it starts at Start and, every Step, is multiplied by
// exp(Sigma·Z) for a standard normal Z, rounded to the nearest integer
// and kept within [Min, Max]. The walk's steps come from a generator of
// their own seeded with [Config.Seed] (and the model's name, for
// per-model walks), so a seed gives the same limit at the same offset on
// every run, whatever the traffic.
//
// The zero value (Start 0) disables the walk. A zero Min means 1, a zero
// Max means no upper bound, a zero Step means one second and a zero Sigma
// means 0.2. A walk, when enabled, replaces the phases of its limit.
type Walk struct {
	Start, Min, Max int
	Step            time.Duration
	Sigma           float64
}

func (w Walk) withDefaults() Walk {
	w.Min = max(w.Min, 1)
	if w.Max > 0 {
		w.Max = max(w.Max, w.Min)
	}
	if w.Step <= 0 {
		w.Step = time.Second
	}
	if w.Sigma == 0 {
		w.Sigma = 0.2
	}
	return w
}

// walker holds the steps of a walk computed so far and their running
// integrals, extended on demand: the cost per request is constant
// (amortized), whatever the limit.
type walker struct {
	w      Walk
	rng    *rand.Rand
	level  float64
	vals   []int      // limit during step k
	prefix [2][]int64 // integral from 0 to the start of step k, unpunished and punished
}

func newWalker(w Walk, seed uint64) *walker {
	w = w.withDefaults()
	wk := &walker{w: w, rng: rand.New(rand.NewPCG(seed, seed^0x3c6ef372fe94f82b)), level: float64(w.Start)}
	wk.prefix = [2][]int64{{0}, {0}}
	return wk
}

// extend computes the steps up to and including k.
func (wk *walker) extend(k int, eff func(int, bool) int) {
	for len(wk.vals) <= k {
		if len(wk.vals) > 0 {
			wk.level *= math.Exp(wk.w.Sigma * wk.rng.NormFloat64())
			wk.level = max(wk.level, float64(wk.w.Min))
			if wk.w.Max > 0 {
				wk.level = min(wk.level, float64(wk.w.Max))
			}
		}
		v := int(math.Round(wk.level))
		v = max(v, wk.w.Min)
		if wk.w.Max > 0 {
			v = min(v, wk.w.Max)
		}
		wk.vals = append(wk.vals, v)
		for i, punished := range [2]bool{false, true} {
			p := wk.prefix[i]
			wk.prefix[i] = append(p, p[len(p)-1]+int64(eff(v, punished))*int64(wk.w.Step))
		}
	}
}

// at returns the walk's limit at t.
func (wk *walker) at(t time.Duration, eff func(int, bool) int) int {
	k := int(t / wk.w.Step)
	wk.extend(k, eff)
	return wk.vals[k]
}

// cumulative returns the integral of the effective limit from 0 to t.
func (wk *walker) cumulative(t time.Duration, punished bool, eff func(int, bool) int) int64 {
	k := int(t / wk.w.Step)
	wk.extend(k, eff)
	i := 0
	if punished {
		i = 1
	}
	return wk.prefix[i][k] + int64(eff(wk.vals[k], punished))*int64(t-time.Duration(k)*wk.w.Step)
}
