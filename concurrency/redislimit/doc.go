// Package redislimit provides a [concurrency.Limiter] whose limit is shared
// by many processes through Redis, so that every worker using one API
// account stays within the account's concurrency limit together, not each
// on its own.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
//	lim := redislimit.New(rdb, redislimit.Config{}) // adaptive, shared
//	defer lim.Close()
//	gate := concurrency.New(concurrency.Config{Limiter: lim})
//	client := &http.Client{Transport: gate.Wrap(nil)}
//
// The gate is unchanged: keys, priorities, holding a permit until the
// response body is done all work as with the in-process limiter. What
// changes is where the limit lives. [Limiter] explains the model: permits
// are leases that the holder renews and a crashed process loses within
// [Config].TTL; waiting is a shared queue ordered by priority and arrival,
// woken by pub/sub notices; the adaptive limit is learned by all processes
// together with the concurrency package's adaptive policy, a decrease
// applying to every process at once and an increase only through one probe
// at a time across all of them (a block of levels during the fast cold
// start, which a key runs once, when Redis first sees it, until its first
// 429; after it, each probe that fits doubles the next, as in the
// in-process gate); and while Redis is unreachable the limiter
// falls back to a local limit or fails closed ([ErrUnavailable]), reports
// the change once through [Config].OnStateChange, and returns to the shared
// limit when Redis answers again.
//
// Only this package of pacer imports go-redis.
//
// # Cost
//
// An uncontended Acquire and Release are one Redis round trip each (a Lua
// script), plus one renewal call per key every TTL/3 for all the permits
// the process holds, however many. The cost does not grow with the requests
// in flight: BenchmarkAcquireRelease measured the same time per Acquire and
// Release with 0, 1000 and 2500 leases of the key held.
package redislimit
