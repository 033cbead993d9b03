package llmtest

import "time"

// plan is what an admitted request gets.
type plan struct {
	behavior       Behavior      // Normal or a fault/wait behaviour
	service        time.Duration // from the start of the answer to its end
	wait           time.Duration // keep-alive phase before the answer
	closeAfterWait bool
	lim            *limiter // that counts it in flight
	// done counts the request out of flight, once: just before the last
	// bytes of its answer are written, or when it ends otherwise.
	done func()
}

// decide pops the script, applies overload windows and the limit, and for
// a normally admitted request draws its wait and fault from the seeded
// generator, in admission order. It reports the behaviour to answer with
// immediately (an error status or a reset) when the request is not
// admitted, and whether it was admitted.
func (s *Handler) decide(model string) (plan, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	lim := s.lim
	if l, ok := s.modelLims[model]; ok {
		lim = l
	}
	b := Normal
	if len(s.script) > 0 {
		b = s.script[0]
		s.script = s.script[1:]
	}
	switch b {
	case Normal:
	case RateLimit:
		lim.advance(now)
		lim.rejected(now)
		return plan{behavior: RateLimit}, false
	case Overload, ServerError, PaymentRequired, ResetBeforeHeaders:
		return plan{behavior: b}, false
	case WaitThenAnswer:
		lim.enter()
		return plan{behavior: b, wait: s.scriptedWait(false), lim: lim}, true
	case WaitThenClose:
		lim.enter()
		return plan{behavior: b, wait: s.scriptedWait(true), closeAfterWait: true, lim: lim}, true
	default:
		lim.enter()
		return plan{behavior: b, lim: lim}, true
	}
	if s.overloaded(now) {
		return plan{behavior: Overload}, false
	}
	if !lim.admit(now) {
		lim.rejected(now)
		return plan{behavior: RateLimit}, false
	}
	p := plan{lim: lim}
	uWait, uFault := s.rng.Float64(), s.rng.Float64()
	w := s.cfg.Wait
	if w.Duration > 0 && uWait < w.Share {
		p.wait = w.Duration
		if w.Max > 0 && w.Duration > w.Max {
			p.wait, p.closeAfterWait = w.Max, true
		}
	}
	f := s.cfg.Faults
	switch {
	case uFault < f.ResetBeforeHeaders:
		p.behavior = ResetBeforeHeaders
	case uFault < f.ResetBeforeHeaders+f.CutMidBody:
		p.behavior = CutMidBody
	case uFault < f.ResetBeforeHeaders+f.CutMidBody+f.SlowHeaders:
		p.behavior = SlowHeaders
	}
	return p, true
}

func (s *Handler) scriptedWait(closing bool) time.Duration {
	w := s.cfg.Wait
	if closing && w.Max > 0 {
		return w.Max
	}
	if w.Duration > 0 {
		return w.Duration
	}
	return defaultScriptedWait
}

// overloaded reports whether a request arriving now gets 503: now falls
// in an overload window, and the window's share picks it. Called with mu
// held.
func (s *Handler) overloaded(now time.Duration) bool {
	if len(s.cfg.Overload) == 0 {
		return false
	}
	if s.lim.cycle > 0 {
		now %= s.lim.cycle
	}
	for _, w := range s.cfg.Overload {
		if now >= w.Start && now < w.Start+w.Duration {
			return w.Share <= 0 || w.Share >= 1 || s.rng.Float64() < w.Share
		}
	}
	return false
}

// release counts an admitted request out of flight.
func (s *Handler) release(p plan) {
	s.mu.Lock()
	p.lim.leave()
	s.mu.Unlock()
}
