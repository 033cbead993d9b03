package quota

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pacerhttp/pacer/internal/roundtrip"
	"github.com/pacerhttp/pacer/transport"
)

// badBase breaks the RoundTripper contract in one of three ways.
type badBase struct {
	mode   string
	closed int
}

func (b *badBase) Close() error { b.closed++; return nil }
func (b *badBase) Read([]byte) (int, error) {
	return 0, io.EOF
}

func (b *badBase) RoundTrip(*http.Request) (*http.Response, error) {
	switch b.mode {
	case "nil-nil":
		return nil, nil
	case "resp-and-error":
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: b}, errors.New("boom")
	default: // "nil-body"
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}, nil
	}
}

// TestContract checks that the layer calls its base through
// roundtrip.Do, on the path of a host that sent no headers and on that of
// one that did.
func TestContract(t *testing.T) {
	for _, announced := range []bool{false, true} {
		for _, mode := range []string{"nil-nil", "resp-and-error", "nil-body"} {
			q := New(Config{})
			if announced {
				first := q.Wrap(transport.RoundTripperFunc(func(*http.Request) (*http.Response, error) {
					return announce(10, 9, time.Minute), nil
				}))
				if _, err := do(t, first, chat(t, "m", 1)); err != nil {
					t.Fatal(err)
				}
			}
			b := &badBase{mode: mode}
			resp, err := q.Wrap(b).RoundTrip(chat(t, "m", 1))
			switch mode {
			case "nil-nil":
				if resp != nil || !errors.Is(err, roundtrip.ErrNilResponse) {
					t.Errorf("announced=%v %s: %v %v", announced, mode, resp, err)
				}
			case "resp-and-error":
				if resp != nil || err == nil || b.closed != 1 {
					t.Errorf("announced=%v %s: resp %v, err %v, closed %d", announced, mode, resp, err, b.closed)
				}
			default:
				if err != nil || resp.Body != http.NoBody {
					t.Errorf("announced=%v %s: body %v, err %v", announced, mode, resp.Body, err)
				}
			}
			if announced {
				if st, _ := q.Stats().Key(key); st.Outstanding != 0 {
					t.Errorf("announced=%v %s: %d reservations left outstanding", announced, mode, st.Outstanding)
				}
			}
		}
	}
}

func TestRequestUnchanged(t *testing.T) {
	q := New(Config{})
	rt := q.Wrap(transport.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return announce(10, 9, time.Minute), nil
	}))
	for range 2 {
		req := chat(t, "m", 1)
		h := req.Header.Clone()
		ctx := req.Context()
		if _, err := do(t, rt, req); err != nil {
			t.Fatal(err)
		}
		if req.Context() != ctx || len(req.Header) != len(h) || req.URL.String() != "http://api.test/v1/chat/completions" {
			t.Fatal("the caller's request was modified")
		}
		// GetBody still gives the whole body: the scan read a copy.
		rc, _ := req.GetBody()
		b, _ := io.ReadAll(rc)
		if !bytes.HasPrefix(b, []byte(`{"model":"m"`)) {
			t.Fatalf("GetBody gives %q", b)
		}
	}
}

func TestCloseIdleConnections(t *testing.T) {
	var closed bool
	base := closeIdler{RoundTripperFunc: func(*http.Request) (*http.Response, error) { return nil, nil }, closed: &closed}
	rt := New(Config{}).Wrap(base)
	rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
	if !closed {
		t.Fatal("CloseIdleConnections not forwarded")
	}
}

type closeIdler struct {
	transport.RoundTripperFunc
	closed *bool
}

func (c closeIdler) CloseIdleConnections() { *c.closed = true }
