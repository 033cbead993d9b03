package main

import (
	"time"

	"github.com/pacerhttp/pacer/llmtest"
)

// idealRequests is how many requests a client that always kept exactly the
// server's scheduled limit in flight could complete between from and to
// (offsets from the server's start): the integral of the limit over the
// interval, divided by the service time. Punishment is left out on purpose:
// a client that is punished did not reach the ideal.
func idealRequests(cfg llmtest.Config, from, to time.Duration) float64 {
	if to <= from || len(cfg.Phases) == 0 {
		return 0
	}
	var cycle time.Duration
	for _, p := range cfg.Phases {
		cycle += p.Duration
	}
	if cycle <= 0 {
		return 0
	}
	// Walk the phases from the start of the cycle that holds from.
	var sum float64 // request·seconds
	t := from - from%cycle
	for t < to {
		for _, p := range cfg.Phases {
			lo, hi := max(t, from), min(t+p.Duration, to)
			if hi > lo {
				sum += float64(p.Limit) * (hi - lo).Seconds()
			}
			t += p.Duration
			if t >= to {
				break
			}
		}
	}
	service := cfg.ServiceTime
	if service <= 0 {
		service = 20 * time.Millisecond
	}
	return sum / service.Seconds()
}
