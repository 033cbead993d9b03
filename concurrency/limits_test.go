package concurrency_test

import (
	"testing"
	"time"

	"github.com/pacerhttp/pacer/concurrency"
)

func TestLimitsWithDefaults(t *testing.T) {
	defaults := concurrency.Limits{
		InitialLimit: concurrency.DefaultInitialLimit,
		MinLimit:     concurrency.DefaultMinLimit,
		MaxLimit:     concurrency.DefaultMaxLimit,
		MaxGrowth:    concurrency.DefaultMaxGrowth,
		MaxQueue:     concurrency.DefaultMaxQueue,
	}
	explicit := concurrency.Limits{
		Limit:        3,
		InitialLimit: 5,
		MinLimit:     2,
		MaxLimit:     50,
		MaxGrowth:    1.25,
		MaxQueue:     7,
		QueueTimeout: time.Second,
	}
	for _, tc := range []struct {
		name string
		in   concurrency.Limits
		want concurrency.Limits
	}{
		{"zero", concurrency.Limits{}, defaults},
		{"explicit", explicit, explicit},
		{"negative bounds", concurrency.Limits{InitialLimit: -1, MinLimit: -1, MaxLimit: -1}, defaults},
		{"max below min", concurrency.Limits{MinLimit: 20, MaxLimit: 10},
			concurrency.Limits{InitialLimit: concurrency.DefaultInitialLimit, MinLimit: 20, MaxLimit: 20,
				MaxGrowth: concurrency.DefaultMaxGrowth, MaxQueue: concurrency.DefaultMaxQueue}},
		{"default max below min", concurrency.Limits{MinLimit: concurrency.DefaultMaxLimit + 1},
			concurrency.Limits{InitialLimit: concurrency.DefaultInitialLimit, MinLimit: concurrency.DefaultMaxLimit + 1,
				MaxLimit: concurrency.DefaultMaxLimit + 1, MaxGrowth: concurrency.DefaultMaxGrowth, MaxQueue: concurrency.DefaultMaxQueue}},
		{"negative limit", concurrency.Limits{Limit: -3}, defaults},
		{"negative queue timeout", concurrency.Limits{QueueTimeout: -time.Second}, defaults},
		{"negative max queue", concurrency.Limits{MaxQueue: -1},
			concurrency.Limits{InitialLimit: concurrency.DefaultInitialLimit, MinLimit: concurrency.DefaultMinLimit,
				MaxLimit: concurrency.DefaultMaxLimit, MaxGrowth: concurrency.DefaultMaxGrowth, MaxQueue: -1}},
		{"growth off", concurrency.Limits{MaxGrowth: -1},
			concurrency.Limits{InitialLimit: concurrency.DefaultInitialLimit, MinLimit: concurrency.DefaultMinLimit,
				MaxLimit: concurrency.DefaultMaxLimit, MaxGrowth: -1, MaxQueue: concurrency.DefaultMaxQueue}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.WithDefaults(); got != tc.want {
				t.Errorf("%+v.WithDefaults() = %+v, want %+v", tc.in, got, tc.want)
			}
			if got := tc.want.WithDefaults(); got != tc.want {
				t.Errorf("not idempotent: %+v.WithDefaults() = %+v", tc.want, got)
			}
		})
	}
}
