package sentinel_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pacerhttp/pacer/internal/sentinel"
)

func TestClassed(t *testing.T) {
	class := errors.New("class")
	other := errors.New("other")
	err := sentinel.New("queue full", class)
	if !errors.Is(err, class) || !errors.Is(err, err) {
		t.Fatal("sentinel does not match itself and its class")
	}
	if errors.Is(err, other) || errors.Is(err, sentinel.New("queue full", class)) {
		t.Fatal("sentinel matches what it is not")
	}
	wrapped := fmt.Errorf("gate: %w", err)
	if !errors.Is(wrapped, class) || !errors.Is(wrapped, err) {
		t.Fatal("wrapped sentinel lost its class")
	}
	if err.Error() != "queue full" {
		t.Fatalf("Error() = %q", err.Error())
	}
}

func TestClasses(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	err := sentinel.New("two classes", a, b)
	if !errors.Is(err, a) || !errors.Is(err, b) || errors.Is(err, errors.New("a")) {
		t.Fatal("a sentinel of two classes does not match exactly those")
	}
	if _, ok := err.(interface{ Timeout() bool }); ok {
		t.Fatal("New made a timeout")
	}
	te := sentinel.NewTimeout("deadline", a)
	var to interface{ Timeout() bool }
	if !errors.As(te, &to) || !to.Timeout() || !errors.Is(te, a) || te.Error() != "deadline" {
		t.Fatal("NewTimeout's error is not a timeout of its class")
	}
}
