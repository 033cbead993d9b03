package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/transport"
)

func TestRecordNilSafe(t *testing.T) {
	var r *transport.Record
	r.Update(func(f *transport.Facts) { f.Attempts = 3 })
	if got := r.Facts(); got != (transport.Facts{}) {
		t.Fatalf("nil record facts = %+v", got)
	}
	if transport.RecordFrom(context.Background()) != nil {
		t.Fatal("empty context must carry no record")
	}
}

func TestEnsureRecord(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
	out, rec := transport.EnsureRecord(req)
	if out == req || rec == nil {
		t.Fatal("EnsureRecord must return a copy carrying a new record")
	}
	if transport.RecordFrom(req.Context()) != nil {
		t.Fatal("the caller's request context was changed")
	}
	again, rec2 := transport.EnsureRecord(out)
	if again != out || rec2 != rec {
		t.Fatal("EnsureRecord must reuse a record already present")
	}
}

func TestRecordConcurrentUpdates(t *testing.T) {
	var rec transport.Record
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec.Update(func(f *transport.Facts) { f.GateWait += time.Millisecond })
			_ = rec.Facts()
		}()
	}
	wg.Wait()
	if got := rec.Facts().GateWait; got != 50*time.Millisecond {
		t.Fatalf("GateWait = %v, want 50ms", got)
	}
}

func TestRecordUpdateAllocs(t *testing.T) {
	var rec transport.Record
	d := time.Millisecond
	allocs := testing.AllocsPerRun(100, func() {
		rec.Update(func(f *transport.Facts) { f.ScheduleWait += d })
	})
	if allocs != 0 {
		t.Fatalf("Update allocates %v times, want 0", allocs)
	}
}

type otherKey struct{}

func TestEnsureRecordContextBehavesAsItsParent(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "v"))
	req, _ := http.NewRequestWithContext(parent, "GET", "http://example.invalid/", nil)
	out, rec := transport.EnsureRecord(req)
	ctx := out.Context()
	if transport.RecordFrom(ctx) != rec {
		t.Fatal("RecordFrom does not find the record EnsureRecord made")
	}
	if ctx.Value(otherKey{}) != "v" {
		t.Fatal("the parent's values are lost")
	}
	if s := fmt.Sprint(ctx); !strings.HasSuffix(s, ".WithRecord") {
		t.Fatalf("String() = %q", s)
	}
	child, stop := context.WithCancel(ctx)
	defer stop()
	cancel()
	for _, c := range []context.Context{ctx, child} {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("cancelling the parent did not reach the context")
		}
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("Err = %v, want context.Canceled", c.Err())
		}
	}
}

func TestEnsureRecordAllocs(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://example.invalid/", nil)
	allocs := testing.AllocsPerRun(1000, func() { _, _ = transport.EnsureRecord(req) })
	if allocs != 2 {
		t.Fatalf("allocations = %v, want 2: the request copy and the context holding the record", allocs)
	}
}
