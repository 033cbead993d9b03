// Package calls runs the calls of the SDK tests from many goroutines.
package calls

import "sync"

// Parallel runs call n times from callers goroutines and returns the
// errors of the calls that failed, in no particular order.
func Parallel(n, callers int, call func() error) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		next = make(chan struct{})
	)
	for range callers {
		wg.Go(func() {
			for range next {
				if err := call(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	return errs
}
