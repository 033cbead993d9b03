package intern_test

import (
	"strconv"
	"sync"
	"testing"
	"unsafe"

	"github.com/pacerhttp/pacer/internal/intern"
)

func same(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

func TestBytesKeepsOneCopy(t *testing.T) {
	var tab intern.Table
	first := tab.Bytes([]byte("deepseek-v4-pro"))
	b := []byte("deepseek-v4-pro")
	again := tab.Bytes(b)
	if again != "deepseek-v4-pro" || !same(first, again) {
		t.Fatalf("second lookup %q is not the kept copy", again)
	}
	b[0] = 'X' // the kept copy does not share the caller's bytes
	if first != "deepseek-v4-pro" {
		t.Fatalf("kept copy changed with the caller's bytes: %q", first)
	}
	if got := tab.Len(); got != 1 {
		t.Fatalf("Len = %d, want 1", got)
	}
	if allocs := testing.AllocsPerRun(100, func() { tab.Bytes(b[:0]); tab.Bytes([]byte("deepseek-v4-pro")) }); allocs > 1 {
		// The empty string is new once; a kept one never allocates.
		t.Fatalf("a kept string allocates: %v allocs per run", allocs)
	}
}

func TestBytesStopsKeepingAtMax(t *testing.T) {
	var tab intern.Table
	for i := range intern.Max + 10 {
		if s := tab.Bytes([]byte(strconv.Itoa(i))); s != strconv.Itoa(i) {
			t.Fatalf("Bytes(%d) = %q", i, s)
		}
	}
	if got := tab.Len(); got != intern.Max {
		t.Fatalf("Len = %d, want %d", got, intern.Max)
	}
	over := strconv.Itoa(intern.Max + 5)
	if a, b := tab.Bytes([]byte(over)), tab.Bytes([]byte(over)); a != over || same(a, b) {
		t.Fatalf("a string past Max came back kept: %q %q", a, b)
	}
	if s := tab.Bytes([]byte("0")); s != "0" || !same(s, tab.Bytes([]byte("0"))) {
		t.Fatal("a string kept before Max is no longer kept")
	}
}

func TestBytesConcurrent(t *testing.T) {
	var tab intern.Table
	var wg sync.WaitGroup
	got := make([][]string, 8)
	for g := range got {
		wg.Go(func() {
			for i := range 200 {
				got[g] = append(got[g], tab.Bytes([]byte(strconv.Itoa(i%50))))
			}
		})
	}
	wg.Wait()
	for g := range got {
		for i, s := range got[g] {
			if s != strconv.Itoa(i%50) || !same(s, got[0][i]) {
				t.Fatalf("goroutine %d lookup %d = %q, not the one kept copy", g, i, s)
			}
		}
	}
	if tab.Len() != 50 {
		t.Fatalf("Len = %d, want 50", tab.Len())
	}
}

func BenchmarkBytes(b *testing.B) {
	var tab intern.Table
	key := []byte("api.deepseek.com deepseek-v4-pro")
	tab.Bytes(key)
	b.Run("kept", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tab.Bytes(key)
		}
	})
	b.Run("conversion", func(b *testing.B) {
		b.ReportAllocs()
		var s string
		for b.Loop() {
			s = string(key)
		}
		_ = s
	})
}
