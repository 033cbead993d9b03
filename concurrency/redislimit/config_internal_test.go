package redislimit

import (
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
)

// TestResolveAppliesLimitDefaults checks that resolve applies the gate's
// limit defaults, and that a negative MaxQueue means no queue.
func TestResolveAppliesLimitDefaults(t *testing.T) {
	c := Config{}.resolve()
	if want := (concurrency.Limits{}).WithDefaults(); c.Limits != want {
		t.Errorf("Limits = %+v, want %+v", c.Limits, want)
	}
	if c.maxQueue != concurrency.DefaultMaxQueue {
		t.Errorf("maxQueue = %d, want %d", c.maxQueue, concurrency.DefaultMaxQueue)
	}
	if c.Prefix != DefaultPrefix || c.TTL != DefaultTTL || c.Timeout != DefaultTimeout || c.Recheck != DefaultRecheck ||
		c.ProbeInterval != DefaultProbeInterval || c.StateTTL != DefaultStateTTL || c.FallbackLimit != DefaultFallbackLimit {
		t.Errorf("resolve() = %+v, want the package defaults", c.Config)
	}

	c = Config{Limits: concurrency.Limits{Limit: -1, MinLimit: 8, MaxLimit: 4, MaxQueue: -1, QueueTimeout: -time.Second}}.resolve()
	if c.Limit != 0 || c.MinLimit != 8 || c.MaxLimit != 8 || c.QueueTimeout != 0 || c.maxQueue != 0 {
		t.Errorf("resolve() limits = %+v, maxQueue %d; want Limit 0, MinLimit and MaxLimit 8, QueueTimeout 0, maxQueue 0", c.Limits, c.maxQueue)
	}
}
