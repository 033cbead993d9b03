// Package sentinel makes error values that belong to classes: a sentinel
// such as the gate's ErrQueueFull is itself matched by errors.Is against
// the classes it belongs to (transport.ErrRejected, transport.ErrNoResponse),
// so it is recognised even when returned bare, unwrapped by any other error.
//
// Every exported sentinel of pacer is made here, so that they all behave
// alike: the message states the fact, and the classes say what it means.
package sentinel

// New returns an error with the text msg for which errors.Is(err, class)
// holds for each of classes. Each call returns a distinct value: compare
// with errors.Is.
func New(msg string, classes ...error) error {
	return &classed{msg: msg, classes: classes}
}

// NewTimeout is [New] for an error that is a deadline: its Timeout method,
// which net/http and [net.Error] users look for, reports true.
func NewTimeout(msg string, classes ...error) error {
	return &timeout{classed{msg: msg, classes: classes}}
}

type classed struct {
	msg     string
	classes []error
}

func (e *classed) Error() string { return e.msg }

// Is reports whether target is one of the sentinel's classes. errors.Is
// checks the sentinel's own identity before calling it.
func (e *classed) Is(target error) bool {
	for _, c := range e.classes {
		if target == c {
			return true
		}
	}
	return false
}

type timeout struct{ classed }

// Timeout reports true: the error is a deadline.
func (*timeout) Timeout() bool { return true }
