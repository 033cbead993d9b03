package waitlist_test

import (
	"fmt"

	"github.com/pacerhttp/pacer/internal/waitlist"
)

type request struct {
	waitlist.Links[request]
	name string
}

func Example() {
	var queue waitlist.List[request, *request]
	a, b, c := &request{name: "a"}, &request{name: "b"}, &request{name: "c"}
	queue.PushBack(a)
	queue.PushBack(b)
	queue.PushBack(c)
	queue.Remove(b) // b gave up waiting
	for r := queue.PopFront(); r != nil; r = queue.PopFront() {
		fmt.Println(r.name)
	}
	// Output:
	// a
	// c
}
