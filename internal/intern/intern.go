package intern

import (
	"sync"
	"sync/atomic"
)

// Max is the most strings a [Table] keeps. Past it, [Table.Bytes] allocates
// each string it returns, as a plain conversion would: a stream of names
// that never repeat (one per end user, say) costs what it did, and the
// table stays small.
const Max = 1024

// Table is a set of strings that only grows, to [Max]. Lookups take no
// lock; an addition copies the set. The zero value is an empty table, ready
// for use, and safe for concurrent use.
type Table struct {
	set atomic.Pointer[map[string]string]
	mu  sync.Mutex // serializes additions
}

// Bytes returns string(b): the table's copy when it holds one, else a new
// string, which it keeps while it holds fewer than Max.
func (t *Table) Bytes(b []byte) string {
	if set := t.set.Load(); set != nil {
		if s, ok := (*set)[string(b)]; ok { // the conversion does not allocate
			return s
		}
	}
	return t.add(string(b))
}

// add keeps s unless the table is full, and returns the kept copy: s, or
// the copy another caller added first.
func (t *Table) add(s string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.set.Load()
	n := 0
	if old != nil {
		if kept, ok := (*old)[s]; ok {
			return kept
		}
		n = len(*old)
	}
	if n >= Max {
		return s
	}
	set := make(map[string]string, n+1)
	if old != nil {
		for k, v := range *old {
			set[k] = v
		}
	}
	set[s] = s
	t.set.Store(&set)
	return s
}

// Len is the number of strings the table keeps.
func (t *Table) Len() int {
	if set := t.set.Load(); set != nil {
		return len(*set)
	}
	return 0
}
