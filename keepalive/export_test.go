package keepalive

import "time"

// SetClock replaces the filter's clock.
func SetClock(f *Filter, now func() time.Time) { f.now = now }

// SetAfterFunc replaces the filter's timer for Config.MaxWait.
func SetAfterFunc(f *Filter, af func(time.Duration, func()) func() bool) { f.afterFunc = af }
