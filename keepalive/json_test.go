package keepalive_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pacerhttp/pacer/keepalive"
)

func TestJSONReader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\n\n\n{\"a\": 1}\n", "{\"a\": 1}\n"},
		{"\r\n \t\r\n[1, 2]  ", "[1, 2]  "},
		{"{\"a\":\n\n1}", "{\"a\":\n\n1}"},
		{"\n\n", ""},
		{"", ""},
		{"x", "x"},
		{"\v{}", "\v{}"}, // vertical tab is not JSON whitespace
	}
	for _, tt := range tests {
		for _, ch := range chunkings {
			rng := rand.New(rand.NewPCG(7, 8))
			got := readAllSized(t, keepalive.NewJSONReader(ch.wrap(strings.NewReader(tt.in), rng)), 3)
			if string(got) != tt.want {
				t.Errorf("%q, %s: got %q, want %q", tt.in, ch.name, got, tt.want)
			}
		}
	}
}

func TestJSONReaderProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	ws := []string{" ", "\t", "\r", "\n", "\r\n", "\n\n"}
	for range 2000 {
		var in bytes.Buffer
		for range rng.IntN(200) {
			in.WriteString(ws[rng.IntN(len(ws))])
		}
		body := `{"id":"x","choices":[{"message":{"content":" \n spaced \n"}}]}` + strings.Repeat(" ", rng.IntN(3))
		in.WriteString(body)
		for _, ch := range chunkings {
			got := readAllSized(t, keepalive.NewJSONReader(ch.wrap(bytes.NewReader(in.Bytes()), rng)), 1+rng.IntN(100))
			if string(got) != body {
				t.Fatalf("%s: got %q, want %q", ch.name, got, body)
			}
		}
	}
}

func TestJSONReaderErrors(t *testing.T) {
	boom := errors.New("connection reset")
	r := keepalive.NewJSONReader(iotest.DataErrReader(io.MultiReader(strings.NewReader("\n\n"), iotest.ErrReader(boom))))
	if n, err := r.Read(make([]byte, 8)); n != 0 || !errors.Is(err, boom) {
		t.Fatalf("Read = %d, %v; want 0, %v", n, err, boom)
	}
	r = keepalive.NewJSONReader(io.MultiReader(strings.NewReader("\n{\"a\""), iotest.ErrReader(boom)))
	got, err := io.ReadAll(r)
	if string(got) != "{\"a\"" || !errors.Is(err, boom) {
		t.Fatalf("ReadAll = %q, %v", got, err)
	}
	// encoding/json reads the filtered body like the original.
	var v struct{ A int }
	if err := json.NewDecoder(keepalive.NewJSONReader(strings.NewReader("\n\n{\"a\":3}"))).Decode(&v); err != nil || v.A != 3 {
		t.Fatalf("Decode = %+v, %v", v, err)
	}
}
