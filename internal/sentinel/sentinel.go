// Package sentinel makes error values that belong to a class: a sentinel
// such as the gate's ErrQueueFull is itself matched by errors.Is against
// the class it belongs to (transport.ErrRejected, transport.ErrNoResponse),
// so it is recognised even when returned bare, unwrapped by any other error.
package sentinel

// New returns an error with the text msg for which errors.Is(err, class)
// holds. Each call returns a distinct value: compare with errors.Is.
func New(msg string, class error) error {
	return &classed{msg: msg, class: class}
}

type classed struct {
	msg   string
	class error
}

func (e *classed) Error() string { return e.msg }

// Is reports whether target is the sentinel's class. errors.Is checks the
// sentinel's own identity before calling it.
func (e *classed) Is(target error) bool { return target == e.class }
