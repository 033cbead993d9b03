package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// printTable prints the summary of every contender's run.
func printTable(out *terminal, cs []*contender, requests int) {
	out.printf("%-17s %8s %9s %6s %7s %9s %9s %7s %7s\n", "client", "success", "attempts", "429s", "time", "goodput", "of ideal", "p50", "p99")
	for _, c := range cs {
		s := c.summary
		cnt := c.counter.Stats()
		success := "-"
		if s.Done > 0 {
			success = fmt.Sprintf("%.1f%%", 100*float64(s.OK)/float64(requests))
		}
		ratio := "-"
		if r, ok := goodputRatio(c); ok {
			ratio = fmt.Sprintf("%.2f", r)
		}
		goodput := fmt.Sprintf("%.0f/s", float64(s.OK)/max(s.Elapsed.Seconds(), 1e-9))
		out.printf("%-17s %8s %9d %6d %6.1fs %9s %9s %7s %7s\n", c.name, success, cnt.Attempts, cnt.RateLimited, s.Elapsed.Seconds(), goodput, ratio, ms(s.P50), ms(s.P99))
	}
	out.printf("\nsuccess: requests answered 200 with a complete body, out of %d. attempts, 429s: counted on the wire,\n"+
		"retries included. time: until the client finished or gave up on every request. goodput: successful\n"+
		"requests per second; of ideal: goodput as a share of what the server's limit allows in that time (limit /\n"+
		"service time), so a client that fails fast scores on it only what it got through. p50, p99: latency of\n"+
		"the successful requests, waits included.\n", requests)
	for _, c := range cs {
		if len(c.summary.Failures) == 0 {
			continue
		}
		out.printf("%s failures: %s\n", c.name, failures(c.summary.Failures))
	}
}

// goodputRatio is the contender's successful requests against the ideal
// (see idealRequests); false when the ideal is unknown (a real endpoint).
func goodputRatio(c *contender) (float64, bool) {
	if c.server == nil {
		return 0, false
	}
	from := c.run.StartedAt().Sub(c.started)
	ideal := idealRequests(demoConfig(0), from, from+c.summary.Elapsed)
	if ideal <= 0 {
		return 0, false
	}
	return float64(c.summary.OK) / ideal, true
}

// chartSubtitle sums up the pacer contender's run under the chart.
func chartSubtitle(c *contender, requests int) string {
	s := c.summary
	cnt := c.counter.Stats()
	share := 0.0
	if cnt.Attempts > 0 {
		share = 100 * float64(cnt.RateLimited) / float64(cnt.Attempts)
	}
	sub := fmt.Sprintf("pacer: %d of %d requests succeeded in %.1fs; 429s %.1f%% of %d attempts", s.OK, requests, s.Elapsed.Seconds(), share, cnt.Attempts)
	if r, ok := goodputRatio(c); ok {
		sub += fmt.Sprintf("; goodput %.2f of ideal", r)
	}
	return sub
}

func failures(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	if d < 10*time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// clientJSON is one row of the summary table, as -json writes it.
type clientJSON struct {
	Client      string           `json:"client"`
	Requests    int              `json:"requests"`
	Done        int64            `json:"done"`
	OK          int64            `json:"ok"`
	Finished    bool             `json:"finished"`
	Attempts    int64            `json:"attempts"`
	RateLimited int64            `json:"rate_limited"`
	Seconds     float64          `json:"seconds"`
	Goodput     float64          `json:"goodput_per_second"`
	OfIdeal     *float64         `json:"of_ideal,omitempty"`
	P50Millis   int64            `json:"p50_ms"`
	P99Millis   int64            `json:"p99_ms"`
	Failures    map[string]int64 `json:"failures,omitempty"`
}

// writeTableJSON writes the summary table as a JSON array, one object per
// client.
func writeTableJSON(w io.Writer, cs []*contender, requests int) error {
	rows := make([]clientJSON, 0, len(cs))
	for _, c := range cs {
		s := c.summary
		cnt := c.counter.Stats()
		r := clientJSON{
			Client: c.name, Requests: requests, Done: s.Done, OK: s.OK, Finished: s.Done >= int64(requests),
			Attempts: cnt.Attempts, RateLimited: cnt.RateLimited, Seconds: s.Elapsed.Seconds(),
			Goodput:   float64(s.OK) / max(s.Elapsed.Seconds(), 1e-9),
			P50Millis: s.P50.Milliseconds(), P99Millis: s.P99.Milliseconds(), Failures: s.Failures,
		}
		if ratio, ok := goodputRatio(c); ok {
			r.OfIdeal = &ratio
		}
		rows = append(rows, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}
