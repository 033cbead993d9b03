package retry

import (
	"strconv"
)

// Error is returned when a request ends in an error after the Retrier made
// Attempts attempts (or none, when the body could not be prepared). Err is
// the last attempt's error, or the context's error when a backoff sleep was
// cut short; errors.Is and errors.As see through to it.
type Error struct {
	Attempts int
	Err      error
}

func (e *Error) Error() string {
	word := " attempts: "
	if e.Attempts == 1 {
		word = " attempt: "
	}
	return "retry: gave up after " + strconv.Itoa(e.Attempts) + word + e.Err.Error()
}

// Unwrap returns the last attempt's error.
func (e *Error) Unwrap() error { return e.Err }
