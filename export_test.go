package pacer

// NewBase exposes the default base transport to the tests.
var NewBase = newBase
