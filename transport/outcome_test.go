package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/pacerhttp/pacer/transport"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code} }
	tests := []struct {
		name string
		resp *http.Response
		err  error
		want transport.Outcome
	}{
		{"200", resp(200), nil, transport.OK},
		{"204", resp(204), nil, transport.OK},
		{"304", resp(304), nil, transport.OK},
		{"400", resp(400), nil, transport.ClientError},
		{"401", resp(401), nil, transport.ClientError},
		{"402", resp(402), nil, transport.PaymentRequired},
		{"403", resp(403), nil, transport.ClientError},
		{"404", resp(404), nil, transport.ClientError},
		{"408", resp(408), nil, transport.ClientError},
		{"422", resp(422), nil, transport.ClientError},
		{"429", resp(429), nil, transport.RateLimited},
		{"500", resp(500), nil, transport.ServerError},
		{"502", resp(502), nil, transport.ServerError},
		{"503", resp(503), nil, transport.Overloaded},
		{"504", resp(504), nil, transport.ServerError},
		{"529", resp(529), nil, transport.Overloaded},
		{"nil response, nil error", nil, nil, transport.NetworkError},
		{"canceled", nil, context.Canceled, transport.Canceled},
		{"canceled wrapped in url.Error", nil, &url.Error{Op: "Post", URL: "x", Err: context.Canceled}, transport.Canceled},
		{"deadline", nil, context.DeadlineExceeded, transport.Timeout},
		{"os deadline", nil, fmt.Errorf("read: %w", os.ErrDeadlineExceeded), transport.Timeout},
		{"net timeout", nil, &url.Error{Op: "Post", URL: "x", Err: timeoutErr{}}, transport.Timeout},
		{"refused", nil, &url.Error{Op: "Post", URL: "x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, transport.NetworkError},
		{"reset", nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, transport.NetworkError},
		{"EOF before headers", nil, &url.Error{Op: "Post", URL: "x", Err: io.EOF}, transport.NetworkError},
		{"no response delivered", nil, fmt.Errorf("keepalive: closed: %w", transport.ErrNoResponse), transport.NetworkError},
		{"error wins over response", resp(200), errors.New("boom"), transport.NetworkError},
		{"rejected by a layer", nil, fmt.Errorf("breaker: open: %w", transport.ErrRejected), transport.Rejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transport.Classify(tt.resp, tt.err); got != tt.want {
				t.Errorf("Classify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOutcomeString(t *testing.T) {
	seen := map[string]bool{}
	for o := transport.OK; o <= transport.Rejected; o++ {
		s := o.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("Outcome(%d).String() = %q: want a distinct name", o, s)
		}
		seen[s] = true
	}
	if got := transport.Outcome(200).String(); got != "unknown" {
		t.Errorf("out-of-range String = %q, want unknown", got)
	}
}

func TestPriority(t *testing.T) {
	ctx := context.Background()
	if p := transport.PriorityFrom(ctx); p != transport.Interactive {
		t.Fatalf("default priority = %v, want interactive", p)
	}
	ctx = transport.WithPriority(ctx, transport.Background)
	if p := transport.PriorityFrom(ctx); p != transport.Background {
		t.Fatalf("priority = %v, want background", p)
	}
	if transport.Interactive.String() != "interactive" || transport.Background.String() != "background" {
		t.Fatal("priority names")
	}
}
