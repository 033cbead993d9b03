package redislimit

import (
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/redis/go-redis/v9"
)

// PermitBase is the limit admitted freely when pm was admitted, as the
// scripts reported it.
func PermitBase(pm concurrency.Permit) int { return pm.(*permit).base }

// TraceScripts are the acquire, release, cancel and stats scripts with
// their clock read from the state hash's "clock" field (µs) instead of the
// server's TIME, so that a test can replay a trace at set instants.
func TraceScripts() (acquire, release, cancel, stats *redis.Script) {
	const clock = `local nowus = tonumber(redis.call('HGET', KEYS[4], 'clock'))`
	s := func(body string) *redis.Script { return redis.NewScript(expand(prelude+body, clock)) }
	return s(acquireBody), s(releaseBody), s(cancelBody), s(statsBody)
}

// AcquireScriptHash is the SHA1 by which the acquire script is called.
func AcquireScriptHash() string { return acquireScript.Hash() }
