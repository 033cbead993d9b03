package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pacerhttp/pacer/llmtest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func runCmd(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, getenv)
	return code, out.String(), errb.String()
}

func TestFlagErrors(t *testing.T) {
	key := env(map[string]string{"DEEPSEEK_API_KEY": "sk-test"})
	none := env(nil)
	tests := []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"unknown flag", none, []string{"-bogus"}, "flag provided but not defined: -bogus"},
		{"bad number", none, []string{"-requests", "many"}, "invalid value"},
		{"negative requests", none, []string{"-requests", "-3"}, "-requests must be positive"},
		{"zero timeout", none, []string{"-timeout", "0s"}, "-timeout must be positive"},
		{"stray argument", none, []string{"run"}, `unexpected argument "run"`},
		{"not a URL", key, []string{"-base-url", "api.deepseek.com"}, "is not an http or https URL"},
		{"no key", none, []string{"-base-url", "https://api.deepseek.com/v1"}, "set PACER_API_KEY"},
		{"caps without endpoint", none, []string{"-max-requests", "5"}, "need -base-url"},
		{"probe flag without probe", none, []string{"-max-concurrency", "8"}, "apply to probe only"},
		{"probe with workload flag", none, []string{"probe", "-requests", "8"}, "probe takes none of"},
		{"zero cap", key, []string{"-base-url", "https://api.deepseek.com/v1", "-max-requests", "0"}, "-max-requests must be at least 1"},
		{"fake flag with endpoint", key, []string{"-base-url", "https://api.deepseek.com/v1", "-seed", "3"}, "embedded fake API only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.getenv, tt.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	code, _, stderr := runCmd(t, env(nil), "-h")
	if code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	for _, want := range []string{"pacer probe", "-base-url", "PACER_API_KEY", "-svg"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("usage does not mention %q", want)
		}
	}
}

// A short run against the embedded fake API prints the table and writes a
// well-formed chart.
func TestShortRunWithChart(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "chart.svg")
	code, stdout, stderr := runCmd(t, env(nil), "-requests", "120", "-callers", "12", "-svg", svg)
	if code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"goodput", "of ideal", "bare http.Client", "go-retryablehttp", "pacer", "Chart written to"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output does not contain %q:\n%s", want, stdout)
		}
	}
	// The pacer row reports every request answered.
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "pacer" && !strings.HasPrefix(f[1], "[") && f[1] != "100.0%" {
			t.Errorf("pacer row %q: want success 100.0%%", line)
		}
	}
	f, err := os.Open(svg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkSVG(t, f)
}

// checkSVG decodes the whole document and checks it is an svg with lines,
// axes labels and a legend.
func checkSVG(t *testing.T, r io.Reader) {
	t.Helper()
	dec := xml.NewDecoder(r)
	var root string
	elems := map[string]int{}
	var texts []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			elems[tok.Name.Local]++
		case xml.CharData:
			if s := strings.TrimSpace(string(tok)); s != "" {
				texts = append(texts, s)
			}
		}
	}
	if root != "svg" {
		t.Errorf("root element %q, want svg", root)
	}
	if elems["polyline"] < 2 {
		t.Errorf("%d polylines, want at least 2", elems["polyline"])
	}
	all := strings.Join(texts, "|")
	for _, want := range []string{"time (s)", "requests", "pacer learned limit", "pacer in flight"} {
		if !strings.Contains(all, want) {
			t.Errorf("chart text does not contain %q", want)
		}
	}
}

func TestWriteSVGEscapesAndHandlesNoServer(t *testing.T) {
	var b bytes.Buffer
	samples := []sample{{0, -1, 4, 0}, {time.Second, -1, 6, 5}, {2 * time.Second, -1, 5, 5}}
	if err := writeSVG(&b, `a <title> & "quotes"`, "sub & title", samples); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, &b)
	if strings.Contains(b.String(), "server limit") {
		t.Error("the server limit is charted although it is unknown")
	}
}

func TestProbeFindsFixedLimit(t *testing.T) {
	for _, limit := range []int{3, 9} {
		var out bytes.Buffer
		o := &options{
			probe: true, model: "deepseek-chat", maxConcurrency: 64, maxRequests: 50, maxTokens: 5000,
			timeout: 30 * time.Second, probeLimit: limit, probePause: 10 * time.Millisecond, seed: 1,
			out: newTerminal(&out, env(nil)),
		}
		res, err := probe(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Limit < limit-1 || res.Limit > limit {
			t.Errorf("limit %d: probe found %d (first rejected %d)\n%s", limit, res.Limit, res.FirstRejected, out.String())
		}
		if res.FirstRejected == 0 {
			t.Errorf("limit %d: probe met no 429", limit)
		}
	}
}

func TestProbeCommand(t *testing.T) {
	code, stdout, stderr := runCmd(t, env(nil), "probe", "-fake-limit", "4")
	if code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "Effective concurrency: 4") {
		t.Errorf("output:\n%s", stdout)
	}
}

// Against an endpoint given by -base-url (here a fake one), the command
// explains 401, 402 and an unreachable endpoint, and stops at its caps.
func TestEndpointErrors(t *testing.T) {
	authSrv := llmtest.NewServer(llmtest.Config{APIKey: "sk-good"})
	defer authSrv.Close()
	paySrv := llmtest.NewServer(llmtest.Config{PaymentRequiredKey: "sk-broke"})
	defer paySrv.Close()
	okSrv := llmtest.NewServer(llmtest.Config{})
	defer okSrv.Close()
	// A port that was listening and is now closed: connection refused.
	gone := llmtest.NewServer(llmtest.Config{})
	goneURL := gone.URL()
	gone.Close()

	tests := []struct {
		name     string
		key      string
		args     []string
		wantCode int
		wantErr  string
		wantOut  string
	}{
		{"401", "sk-bad", []string{"-base-url", authSrv.URL()}, exitError, "401 Unauthorized", ""},
		{"402", "sk-broke", []string{"-base-url", paySrv.URL()}, exitError, "402 Payment Required", ""},
		{"unreachable", "sk-any", []string{"-base-url", goneURL}, exitError, "cannot reach", ""},
		{"probe 401", "sk-bad", []string{"probe", "-base-url", authSrv.URL()}, exitError, "401 Unauthorized", ""},
		{"ok", "sk-good", []string{"-base-url", authSrv.URL(), "-requests", "6"}, exitOK, "", "100.0%"},
		{"request cap", "sk-any", []string{"-base-url", okSrv.URL(), "-requests", "10", "-callers", "1", "-max-requests", "3"}, exitOK, "", "Stopped by a cap"},
		{"token cap", "sk-any", []string{"-base-url", okSrv.URL(), "-requests", "10", "-callers", "1", "-max-tokens", "1"}, exitOK, "", "token budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, env(map[string]string{"PACER_API_KEY": tt.key}), tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
			}
			if !strings.Contains(stdout, tt.wantOut) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantOut, stdout)
			}
			if strings.Contains(stdout+stderr, tt.key) {
				t.Error("the API key was printed")
			}
		})
	}
}

func TestIdealRequests(t *testing.T) {
	cfg := demoConfig(0) // 16, 6, 24 for 2s each; 40ms per answer
	tests := []struct {
		from, to time.Duration
		want     float64
	}{
		{0, 2 * time.Second, 16 * 2 / 0.04},
		{0, 6 * time.Second, (16 + 6 + 24) * 2 / 0.04},
		{time.Second, 3 * time.Second, (16 + 6) / 0.04},
		{5 * time.Second, 7 * time.Second, (24 + 16) / 0.04},
		{13 * time.Second, 13 * time.Second, 0},
	}
	for _, tt := range tests {
		if got := idealRequests(cfg, tt.from, tt.to); got < tt.want-1e-6 || got > tt.want+1e-6 {
			t.Errorf("idealRequests(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

// Each mode's -h lists the flags it accepts, and only those.
func TestHelpListsOwnFlags(t *testing.T) {
	_, _, probeHelp := runCmd(t, env(nil), "probe", "-h")
	_, _, demoHelp := runCmd(t, env(nil), "-h")
	for _, tt := range []struct {
		usage     string
		want, not []string
	}{
		{probeHelp, []string{"-max-concurrency", "-fake-limit", "-timeout", "-json"}, []string{"-requests", "-callers", "-stream", "-svg"}},
		{demoHelp, []string{"-requests", "-callers", "-stream", "-svg", "-json", "pacer proxy"}, []string{"-max-concurrency", "-fake-limit"}},
	} {
		for _, f := range tt.want {
			if !strings.Contains(tt.usage, f+" ") && !strings.Contains(tt.usage, f+"\n") {
				t.Errorf("usage does not list %s:\n%s", f, tt.usage)
			}
		}
		for _, f := range tt.not {
			if strings.Contains(tt.usage, "  "+f+" ") || strings.Contains(tt.usage, "  "+f+"\n") {
				t.Errorf("usage lists %s, which this mode does not accept:\n%s", f, tt.usage)
			}
		}
	}
}

// A run stopped by -timeout before every request was done exits non-zero
// and says so; its progress says "stopped", not "done".
func TestTimeoutIsAFailure(t *testing.T) {
	code, _, stderr := runCmd(t, env(nil), "-timeout", "300ms")
	if code != exitError {
		t.Errorf("exit code %d, want %d", code, exitError)
	}
	if !strings.Contains(stderr, "stopped after -timeout 300ms before every request was done") {
		t.Errorf("stderr %q does not say the run was cut short", stderr)
	}
	stopped := false
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.Contains(l, " attempts ") {
			continue // not a progress line
		}
		// A client may finish before the timeout (the bare client's 429s
		// come back at once); one that says done must have done every
		// request.
		if strings.HasSuffix(strings.TrimSpace(l), "done") && !doneAll(l) {
			t.Errorf("progress line says done with requests left: %q", l)
		}
		stopped = stopped || strings.Contains(l, "stopped")
	}
	if !stopped {
		t.Errorf("progress (on stderr) does not say stopped:\n%s", stderr)
	}
}

// doneAll reports whether a progress line's count (n/total) is complete.
func doneAll(line string) bool {
	for _, f := range strings.Fields(line) {
		if n, total, ok := strings.Cut(f, "/"); ok && n != "" && n == total {
			return true
		}
	}
	return false
}

// -json writes the table or the probe's result as JSON on stdout, and the
// human output on stderr.
func TestJSONOutput(t *testing.T) {
	code, stdout, stderr := runCmd(t, env(nil), "-requests", "60", "-callers", "6", "-json")
	if code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	var rows []clientJSON
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatalf("stdout is not the JSON table: %v\n%s", err, stdout)
	}
	if len(rows) != 3 || rows[2].Client != "pacer" || rows[2].OK != 60 || !rows[2].Finished || rows[2].OfIdeal == nil {
		t.Errorf("rows %+v", rows)
	}
	if !strings.Contains(stderr, "goodput") {
		t.Errorf("the table is not on stderr:\n%s", stderr)
	}

	code, stdout, stderr = runCmd(t, env(nil), "probe", "-fake-limit", "4", "-json")
	if code != exitOK {
		t.Fatalf("probe: exit code %d; stderr:\n%s", code, stderr)
	}
	var res probeResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Limit != 4 || res.FirstRejected != 5 {
		t.Errorf("probe JSON %q (%v): want limit 4, first rejected 5", stdout, err)
	}
}

// TestProgressFitsTheTerminal draws a progress block wider than the
// terminal: every line written is cut to one column less than its width.
func TestProgressFitsTheTerminal(t *testing.T) {
	var b strings.Builder
	tm := &terminal{w: &b, interactive: true, width: 40}
	long := strings.Repeat("x", 152)
	tm.live([]string{long, "short", "→ " + long})
	tm.live([]string{long, "short", "→ " + long})
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		// Each line starts with the cursor moves and the erase sequence.
		visible := l[strings.LastIndex(l, "\x1b[2K")+len("\x1b[2K"):]
		if n := utf8.RuneCountInString(visible); n > 39 {
			t.Errorf("a line of %d columns on a terminal of 40: %q", n, visible)
		}
	}
}

// TestProgressOnStderr checks that the live progress goes to standard
// error and the results to standard output.
func TestProgressOnStderr(t *testing.T) {
	code, stdout, stderr := runCmd(t, env(nil), "-requests", "60", "-callers", "6")
	if code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	if strings.Contains(stdout, "[#") || !strings.Contains(stderr, "[#") {
		t.Errorf("progress bars on stdout or not on stderr:\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if !strings.Contains(stdout, "of ideal") {
		t.Errorf("the table is not on stdout:\n%s", stdout)
	}
}
