package redislimit

import "github.com/pacerhttp/pacer/concurrency"

// PermitBase is the limit admitted freely when pm was admitted, as the
// scripts reported it.
func PermitBase(pm concurrency.Permit) int { return pm.(*permit).base }
