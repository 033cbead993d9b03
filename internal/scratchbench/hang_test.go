package scratchbench

import (
	"context"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/pacerhttp/pacer"
	"github.com/pacerhttp/pacer/internal/loadgen"
	"github.com/pacerhttp/pacer/llmtest"
)

func TestHang(t *testing.T) {
	srv := llmtest.NewServer(llmtest.Config{Phases: []llmtest.Phase{{Limit: 16, Duration: 2 * time.Second}, {Limit: 6, Duration: 2 * time.Second}}, ServiceTime: 40 * time.Millisecond})
	defer srv.Close()
	counter := &loadgen.Counter{}
	st := pacer.NewStack(pacer.Config{Base: counter})
	r := loadgen.Start(context.Background(), loadgen.Workload{Client: st.Client(), URL: srv.URL() + "/chat/completions", Model: "m", Requests: 300, Callers: 48})
	select {
	case <-r.Done():
	case <-time.After(3 * time.Second):
		t.Log(counter.Stats(), st.Gate.Stats())
		pprof.Lookup("goroutine").WriteTo(os.Stdout, 1)
	}
	t.Log(r.Wait())
}
