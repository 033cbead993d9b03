package redislimit_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// workerEnv selects a worker mode: the test binary re-executed as one of
// several processes sharing a limit (see process_test.go).
const workerEnv = "REDISLIMIT_WORKER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(workerEnv); mode != "" {
		os.Exit(runWorker(mode))
	}
	goleak.VerifyTestMain(m)
}
