package redislimit_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// workerEnv selects a worker mode: the test binary re-executed as one of
// several processes sharing a limit (see process_test.go).
const workerEnv = "REDISLIMIT_WORKER"

func TestMain(m *testing.M) {
	redis.SetLogger(outageLogger{})
	if mode := os.Getenv(workerEnv); mode != "" {
		os.Exit(runWorker(mode))
	}
	goleak.VerifyTestMain(m)
}

// outageLogger passes go-redis's log lines to stderr, except the failed
// dials that the outage tests cause on purpose: what those tests expect of
// an unreachable Redis they check themselves.
type outageLogger struct{}

func (outageLogger) Printf(_ context.Context, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.Contains(msg, "failed to dial") {
		return
	}
	fmt.Fprintln(os.Stderr, "redis:", msg)
}
