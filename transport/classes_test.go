package transport_test

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/pacerhttp/pacer/breaker"
	"github.com/pacerhttp/pacer/concurrency"
	"github.com/pacerhttp/pacer/keepalive"
	"github.com/pacerhttp/pacer/quota"
	"github.com/pacerhttp/pacer/transport"
)

// Every exported sentinel of the library module, the class it belongs to,
// and how Classify reports it returned bare. concurrency/redislimit is a
// module of its own and is not covered here.
func TestSentinelClasses(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		class error // errors.Is(err, class) must hold
		want  transport.Outcome
	}{
		{"transport.ErrRejected", transport.ErrRejected, transport.ErrRejected, transport.Rejected},
		{"transport.ErrNoResponse", transport.ErrNoResponse, transport.ErrNoResponse, transport.NetworkError},
		{"concurrency.ErrQueueFull", concurrency.ErrQueueFull, transport.ErrRejected, transport.Rejected},
		{"concurrency.ErrQueueTimeout", concurrency.ErrQueueTimeout, transport.ErrRejected, transport.Rejected},
		{"quota.ErrQueueFull", quota.ErrQueueFull, transport.ErrRejected, transport.Rejected},
		{"quota.ErrQueueTimeout", quota.ErrQueueTimeout, transport.ErrRejected, transport.Rejected},
		{"quota.ErrWaitCanceled", quota.ErrWaitCanceled, transport.ErrRejected, transport.Rejected},
		{"breaker.ErrOpen", breaker.ErrOpen, transport.ErrRejected, transport.Rejected},
		{"keepalive.ErrClosedWhileWaiting", keepalive.ErrClosedWhileWaiting, transport.ErrNoResponse, transport.NetworkError},
		{"keepalive.ErrWaitTimeout", keepalive.ErrWaitTimeout, os.ErrDeadlineExceeded, transport.Timeout},
		{"keepalive.ErrStalled", keepalive.ErrStalled, io.ErrUnexpectedEOF, transport.NetworkError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.class) {
				t.Errorf("%v does not match its class %v", tt.err, tt.class)
			}
			if got := transport.Classify(nil, tt.err); got != tt.want {
				t.Errorf("Classify(nil, %v) = %v, want %v", tt.err, got, tt.want)
			}
			if msg := tt.err.Error(); len(msg) > 100 {
				t.Errorf("message of %d characters, want the fact alone (remedies belong in doc comments): %q", len(msg), msg)
			}
		})
	}
}
