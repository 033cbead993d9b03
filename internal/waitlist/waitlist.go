package waitlist

import "iter"

// Links is embedded in an element type E to let a *E be on a [List].
type Links[E any] struct {
	prev, next *E
}

func (l *Links[E]) links() *Links[E] { return l }

// Element is the constraint a *E meets by embedding Links[E].
type Element[E any] interface {
	*E
	links() *Links[E]
}

// List is a FIFO list of *E; its zero value is empty. Write the type as
// List[E, *E].
type List[E any, P Element[E]] struct {
	head, tail *E
}

// Front returns the first element, or nil when the list is empty.
func (l *List[E, P]) Front() *E { return l.head }

// PushBack adds e, which must not be on any list, at the back.
func (l *List[E, P]) PushBack(e *E) {
	k := P(e).links()
	k.prev, k.next = l.tail, nil
	if l.tail == nil {
		l.head = e
	} else {
		P(l.tail).links().next = e
	}
	l.tail = e
}

// PopFront removes and returns the first element, or nil when the list is
// empty.
func (l *List[E, P]) PopFront() *E {
	e := l.head
	if e != nil {
		l.Remove(e)
	}
	return e
}

// Remove takes e, which must be on l, off it.
func (l *List[E, P]) Remove(e *E) {
	k := P(e).links()
	if k.prev == nil {
		l.head = k.next
	} else {
		P(k.prev).links().next = k.next
	}
	if k.next == nil {
		l.tail = k.prev
	} else {
		P(k.next).links().prev = k.prev
	}
	k.prev, k.next = nil, nil
}

// All yields the elements front to back. The loop body must not change
// the list.
func (l *List[E, P]) All() iter.Seq[*E] {
	return func(yield func(*E) bool) {
		for e := l.head; e != nil; e = P(e).links().next {
			if !yield(e) {
				return
			}
		}
	}
}
