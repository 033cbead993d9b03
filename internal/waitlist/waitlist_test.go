package waitlist_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pacerhttp/pacer/internal/waitlist"
)

type item struct {
	waitlist.Links[item]
	n int
}

func values(l *waitlist.List[item, *item]) []int {
	var got []int
	for e := range l.All() {
		got = append(got, e.n)
	}
	return got
}

// Remove from the front, the middle and the back keeps the order of the
// rest, and a removed element can join again.
func TestList(t *testing.T) {
	var l waitlist.List[item, *item]
	if l.Front() != nil || l.PopFront() != nil {
		t.Fatal("zero list not empty")
	}
	items := make([]*item, 6)
	for i := range items {
		items[i] = &item{n: i}
		l.PushBack(items[i])
	}
	l.Remove(items[0]) // front
	l.Remove(items[3]) // middle
	l.Remove(items[5]) // back
	if diff := cmp.Diff([]int{1, 2, 4}, values(&l)); diff != "" {
		t.Fatalf("after removals (-want +got):\n%s", diff)
	}
	l.PushBack(items[3])
	if diff := cmp.Diff([]int{1, 2, 4, 3}, values(&l)); diff != "" {
		t.Fatalf("after pushing a removed element again (-want +got):\n%s", diff)
	}
	var popped []int
	for e := l.PopFront(); e != nil; e = l.PopFront() {
		popped = append(popped, e.n)
	}
	if diff := cmp.Diff([]int{1, 2, 4, 3}, popped); diff != "" {
		t.Fatalf("popped (-want +got):\n%s", diff)
	}
	if l.Front() != nil || len(values(&l)) != 0 {
		t.Fatal("list not empty after popping everything")
	}
	// An element removed from the only place leaves an empty list that
	// works as new.
	l.PushBack(items[2])
	l.Remove(items[2])
	l.PushBack(items[1])
	if diff := cmp.Diff([]int{1}, values(&l)); diff != "" {
		t.Fatalf("reused list (-want +got):\n%s", diff)
	}
}

// All stops when the loop breaks.
func TestAllBreak(t *testing.T) {
	var l waitlist.List[item, *item]
	for i := range 5 {
		l.PushBack(&item{n: i})
	}
	var got []int
	for e := range l.All() {
		if len(got) == 2 {
			break
		}
		got = append(got, e.n)
	}
	if !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("got %v, want [0 1]", got)
	}
}

// Pushing, popping and removing do not allocate.
func TestNoAllocs(t *testing.T) {
	var l waitlist.List[item, *item]
	a, b, c := &item{n: 1}, &item{n: 2}, &item{n: 3}
	if n := testing.AllocsPerRun(100, func() {
		l.PushBack(a)
		l.PushBack(b)
		l.PushBack(c)
		l.Remove(b)
		l.PopFront()
		l.PopFront()
	}); n != 0 {
		t.Fatalf("%v allocations per run, want 0", n)
	}
}
