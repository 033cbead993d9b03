package breaker

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
)

// never is the open delay handed to failsafe-go: its circuit never leaves the
// open state on its own, because its clock cannot be injected. The circuit
// half-opens when the Breaker's clock says Config.Delay has passed (see
// acquire); everything else (the failure-rate window, the thresholds, the
// half-open permits) is failsafe-go's.
const never = time.Duration(math.MaxInt64)

// verdict is what one request's outcome tells a circuit.
type verdict uint8

const (
	success verdict = iota
	failure
	// neutral says nothing about the server: the caller canceled.
	neutral
	// unsent is a request that a layer below refused to send (the gate's
	// queue shed it, or its context ended there): no sign of the server,
	// and, for a probe, no probe at all.
	unsent
)

// circuit is the breaker of one key.
type circuit struct {
	key string
	b   *Breaker
	cb  circuitbreaker.CircuitBreaker[any]
	// openedAt is when the circuit last opened, by the Breaker's clock; nil
	// while it is not open, and for the instant between failsafe-go opening
	// the circuit and its listener storing the time. Only the request that
	// swaps it back to nil half-opens the circuit.
	openedAt atomic.Pointer[time.Time]
	// closedDone and probeDone settle a request admitted closed or as a
	// probe when its body is done; made once, so that wrapping a body
	// costs no closure.
	closedDone, probeDone func(error)
	// spare counts the half-open permits of probes that a layer below
	// refused to send: failsafe-go frees a permit only with a result, so
	// such a probe keeps its permit and hands it to the next request
	// instead (see giveBack). gen counts the circuit's state changes: a
	// spare belongs to the half-open period it was made in, and a change
	// drops it.
	spareMu sync.Mutex
	spare   int
	gen     uint64
}

func newCircuit(b *Breaker, key string) *circuit {
	c := &circuit{key: key, b: b}
	c.closedDone = func(err error) { c.bodyDone(false, err) }
	c.probeDone = func(err error) { c.bodyDone(true, err) }
	cfg := &b.cfg
	c.cb = circuitbreaker.NewBuilder[any]().
		WithFailureRateThreshold(cfg.FailureRate, uint(cfg.MinRequests), cfg.Period).
		WithDelay(never).
		WithSuccessThreshold(uint(cfg.Probes)).
		OnStateChanged(c.changed).
		Build()
	return c
}

// changed is failsafe-go's state listener. It runs outside failsafe-go's
// lock, after the change.
func (c *circuit) changed(ev circuitbreaker.StateChangedEvent) {
	from, to := fromFailsafe(ev.OldState), fromFailsafe(ev.NewState)
	c.spareMu.Lock()
	c.spare = 0
	c.gen++
	c.spareMu.Unlock()
	if to == Open {
		t := c.b.now()
		c.openedAt.Store(&t)
	}
	if hook := c.b.cfg.OnStateChange; hook != nil {
		hook(c.key, from, to)
	}
}

// state returns the circuit's current state.
func (c *circuit) state() State { return fromFailsafe(c.cb.State()) }

// acquire asks the circuit to admit one request. It half-opens an open
// circuit whose delay has passed. ok reports whether the request may go;
// met is the state it met: Closed, or HalfOpen for a probe, whose result
// must be settled; when refused, Open or HalfOpen (every probe in flight).
func (c *circuit) acquire() (met State, ok bool) {
	if p := c.openedAt.Load(); p != nil {
		if c.b.now().Sub(*p) >= c.b.cfg.Delay && c.openedAt.CompareAndSwap(p, nil) {
			c.cb.HalfOpen()
		}
	}
	ok = c.cb.TryAcquirePermit()
	met = c.state()
	if !ok && met == HalfOpen && c.takeSpare() {
		ok = true
	}
	if !ok && met == Closed {
		// Closed between the two calls: the probes that held the permits
		// have just succeeded. Report what refused the request.
		met = HalfOpen
	}
	return met, ok
}

// generation returns the count of state changes, which a probe reads when
// it is admitted.
func (c *circuit) generation() uint64 {
	c.spareMu.Lock()
	defer c.spareMu.Unlock()
	return c.gen
}

// takeSpare takes one spare half-open permit, if there is one.
func (c *circuit) takeSpare() bool {
	c.spareMu.Lock()
	defer c.spareMu.Unlock()
	if c.spare <= 0 {
		return false
	}
	c.spare--
	return true
}

// giveBack hands the permit of a probe admitted in generation gen, which
// a layer below refused to send, to the next request: nothing reached the
// server, so it is no result. A probe of an earlier half-open period gives
// nothing back: its permit went with that period.
func (c *circuit) giveBack(gen uint64) {
	c.spareMu.Lock()
	defer c.spareMu.Unlock()
	if c.gen == gen && c.cb.IsHalfOpen() {
		c.spare++
	}
}

// remaining is how long until an open circuit half-opens.
func (c *circuit) remaining() time.Duration {
	p := c.openedAt.Load()
	if p == nil {
		if c.state() == Open {
			return c.b.cfg.Delay
		}
		return 0
	}
	return max(0, c.b.cfg.Delay-c.b.now().Sub(*p))
}

// settle reports the verdict of a request admitted by acquire. probe says
// whether it was admitted half-open (met == HalfOpen).
//
// A probe that was sent always reports, because failsafe-go frees a
// half-open permit only when a result is recorded: a probe canceled by its
// caller proves nothing, so it counts as a failure and the circuit waits
// another delay. A probe that was never sent (unsent) reports nothing and
// leaves its permit to the next request. A request
// admitted closed does not report a neutral verdict, nor anything once the
// circuit is half-open: it started before the circuit opened and is no
// probe.
func (c *circuit) settle(probe bool, v verdict) {
	if !probe {
		if v == neutral || c.cb.IsHalfOpen() {
			return
		}
	}
	if v == unsent {
		// Nothing reached the server, and a probe's permit is given back
		// by giveBack: no result.
		return
	}
	if v == success {
		c.cb.RecordSuccess()
	} else {
		c.cb.RecordFailure()
	}
}
