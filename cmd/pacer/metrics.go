package main

import (
	"bufio"
	"context"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// metrics collects the stack's OpenTelemetry metrics on demand and serves
// them in the Prometheus text exposition format (version 0.0.4), so that a
// Prometheus server, or anything that scrapes the same format, reads them
// without an exporter library: each scrape is one collection of a manual
// reader, cumulative since the proxy started.
type metrics struct {
	reader   *sdkmetric.ManualReader
	provider *sdkmetric.MeterProvider
}

func newMetrics() *metrics {
	r := sdkmetric.NewManualReader()
	return &metrics{
		reader:   r,
		provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(r), sdkmetric.WithResource(resource.Empty())),
	}
}

func (m *metrics) shutdown() error { return m.provider.Shutdown(context.Background()) }

func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(r.Context(), &rm); err != nil {
		http.Error(w, "collecting metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriter(w)
	writePrometheus(bw, &rm)
	bw.Flush()
}

// family is the samples of one metric name, which the format wants
// together under one TYPE line.
type family struct {
	name, typ, help string
	lines           []string
}

// writePrometheus writes rm in the Prometheus text format. Names are
// sanitized ("pacer.gate.limit" becomes "pacer_gate_limit"), a unit of
// seconds or bytes is appended as a suffix, monotonic sums get "_total",
// and histograms their _bucket, _sum and _count series.
func writePrometheus(w *bufio.Writer, rm *metricdata.ResourceMetrics) {
	var order []string
	fams := map[string]*family{}
	get := func(name, typ, help string) *family {
		f, ok := fams[name]
		if !ok {
			f = &family{name: name, typ: typ, help: help}
			fams[name] = f
			order = append(order, name)
		}
		return f
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			name := promName(m.Name, m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				f := get(name, "gauge", m.Description)
				for _, p := range d.DataPoints {
					f.lines = append(f.lines, promSample(name, p.Attributes, nil, float64(p.Value)))
				}
			case metricdata.Gauge[float64]:
				f := get(name, "gauge", m.Description)
				for _, p := range d.DataPoints {
					f.lines = append(f.lines, promSample(name, p.Attributes, nil, p.Value))
				}
			case metricdata.Sum[int64]:
				f := sumFamily(get, name, m.Description, d.IsMonotonic)
				for _, p := range d.DataPoints {
					f.lines = append(f.lines, promSample(f.name, p.Attributes, nil, float64(p.Value)))
				}
			case metricdata.Sum[float64]:
				f := sumFamily(get, name, m.Description, d.IsMonotonic)
				for _, p := range d.DataPoints {
					f.lines = append(f.lines, promSample(f.name, p.Attributes, nil, p.Value))
				}
			case metricdata.Histogram[int64]:
				f := get(name, "histogram", m.Description)
				for _, p := range d.DataPoints {
					f.lines = histogram(f.lines, name, p.Attributes, p.Bounds, p.BucketCounts, p.Count, float64(p.Sum))
				}
			case metricdata.Histogram[float64]:
				f := get(name, "histogram", m.Description)
				for _, p := range d.DataPoints {
					f.lines = histogram(f.lines, name, p.Attributes, p.Bounds, p.BucketCounts, p.Count, p.Sum)
				}
			}
		}
	}
	for _, name := range order {
		f := fams[name]
		if f.help != "" {
			w.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n")
		}
		w.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
		for _, l := range f.lines {
			w.WriteString(l)
		}
	}
}

func sumFamily(get func(name, typ, help string) *family, name, help string, monotonic bool) *family {
	if monotonic {
		return get(strings.TrimSuffix(name, "_total")+"_total", "counter", help)
	}
	return get(name, "gauge", help)
}

func histogram(lines []string, name string, attrs attribute.Set, bounds []float64, counts []uint64, count uint64, sum float64) []string {
	var cum uint64
	for i, b := range bounds {
		if i < len(counts) {
			cum += counts[i]
		}
		lines = append(lines, promSample(name+"_bucket", attrs, []string{"le", formatFloat(b)}, float64(cum)))
	}
	lines = append(lines, promSample(name+"_bucket", attrs, []string{"le", "+Inf"}, float64(count)))
	lines = append(lines, promSample(name+"_sum", attrs, nil, sum))
	return append(lines, promSample(name+"_count", attrs, nil, float64(count)))
}

// promSample renders one line: name{labels} value.
func promSample(name string, attrs attribute.Set, extra []string, v float64) string {
	var b strings.Builder
	b.WriteString(name)
	kvs := attrs.ToSlice()
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	if len(kvs) > 0 || len(extra) > 0 {
		b.WriteByte('{')
		sep := ""
		for _, kv := range kvs {
			b.WriteString(sep + promLabel(string(kv.Key)) + `="` + escapeLabel(kv.Value.String()) + `"`)
			sep = ","
		}
		for i := 0; i+1 < len(extra); i += 2 {
			b.WriteString(sep + extra[i] + `="` + escapeLabel(extra[i+1]) + `"`)
			sep = ","
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
	return b.String()
}

// promName maps an OpenTelemetry instrument name and unit to a Prometheus
// metric name.
func promName(name, unit string) string {
	n := sanitize(name, true)
	suffix := ""
	switch unit {
	case "s":
		suffix = "_seconds"
	case "ms":
		suffix = "_milliseconds"
	case "By":
		suffix = "_bytes"
	}
	if suffix != "" && !strings.HasSuffix(n, suffix) {
		n += suffix
	}
	return n
}

func promLabel(key string) string { return sanitize(key, false) }

// sanitize replaces every character not allowed in a Prometheus metric
// (colons allowed) or label name by an underscore.
func sanitize(s string, colon bool) string {
	b := []byte(s)
	for i, c := range b {
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' || colon && c == ':'
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
