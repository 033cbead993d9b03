package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// sample is one point of the chart: the server's effective limit (negative
// when unknown, as for a real endpoint), pacer's learned limit and pacer's
// requests in flight.
type sample struct {
	t           time.Duration
	serverLimit int
	learned     int
	inFlight    int
}

// series is one line of the chart.
type series struct {
	name  string
	color string
	width float64
	dash  string
	value func(sample) int
}

var chartSeries = []series{
	{"server limit", "#888888", 3, "", func(s sample) int { return s.serverLimit }},
	{"pacer learned limit", "#1f6feb", 2.5, "", func(s sample) int { return s.learned }},
	{"pacer in flight", "#2da44e", 1.5, "4 3", func(s sample) int { return s.inFlight }},
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 900, 420
	padL, padR     = 64, 24
	padT, padB     = 56, 56
)

// writeSVG writes a step chart of samples: time on the x axis, requests on
// the y axis, one line per series, a legend and a title.
func writeSVG(w io.Writer, title, subtitle string, samples []sample) error {
	bw := bufio.NewWriter(w)
	tmax := time.Second
	ymax := 1
	haveServer := false
	for _, s := range samples {
		tmax = max(tmax, s.t)
		ymax = max(ymax, s.serverLimit, s.learned, s.inFlight)
		if s.serverLimit >= 0 {
			haveServer = true
		}
	}
	ystep := niceStep(float64(ymax)*1.1, 6)
	ytop := math.Ceil(float64(ymax)*1.1/ystep) * ystep
	xstep := niceStep(tmax.Seconds(), 10)
	xtop := math.Ceil(tmax.Seconds()/xstep) * xstep
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-padB)
	x := func(t time.Duration) float64 { return padL + t.Seconds()/xtop*plotW }
	y := func(v float64) float64 { return padT + plotH - v/ytop*plotH }

	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">
<rect width="100%%" height="100%%" fill="white"/>
`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(bw, `<text x="%d" y="28" font-size="16" font-weight="bold">%s</text>
`, padL, escape(title))
	if subtitle != "" {
		fmt.Fprintf(bw, `<text x="%d" y="%d" fill="#555555">%s</text>
`, padL, chartH-14, escape(subtitle))
	}

	// Grid and axes.
	for v := 0.0; v <= ytop+ystep/2; v += ystep {
		fmt.Fprintf(bw, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>
<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>
`, padL, y(v), chartW-padR, y(v), padL-8, y(v), num(v))
	}
	for v := 0.0; v <= xtop+xstep/2; v += xstep {
		px := x(time.Duration(v * float64(time.Second)))
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e5e5"/>
<text x="%.1f" y="%d" text-anchor="middle">%s</text>
`, px, padT, px, chartH-padB, px, chartH-padB+18, num(v))
	}
	fmt.Fprintf(bw, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>
<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>
<text x="%.1f" y="%d" text-anchor="end">time (s)</text>
<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">requests</text>
`, padL, chartH-padB, chartW-padR, chartH-padB, padL, padT, padL, chartH-padB,
		float64(chartW-padR), chartH-14, padT+plotH/2)

	// Lines, as steps: each value holds until the next sample.
	legend := 0
	for _, se := range chartSeries {
		if se.name == "server limit" && !haveServer {
			continue
		}
		var pts strings.Builder
		for i, s := range samples {
			v := float64(se.value(s))
			if i > 0 {
				fmt.Fprintf(&pts, "%.1f,%.1f ", x(s.t), y(float64(se.value(samples[i-1]))))
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(s.t), y(v))
		}
		dash := ""
		if se.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, se.dash)
		}
		if len(samples) > 0 {
			fmt.Fprintf(bw, `<polyline fill="none" stroke="%s" stroke-width="%.1f"%s stroke-linejoin="round" points="%s"/>
`, se.color, se.width, dash, strings.TrimSpace(pts.String()))
		}
		// Legend entry, top right, above the plot.
		lx := chartW - padR - 190*(len(chartSeries)-legend)
		fmt.Fprintf(bw, `<line x1="%d" y1="44" x2="%d" y2="44" stroke="%s" stroke-width="%.1f"%s/>
<text x="%d" y="48">%s</text>
`, lx, lx+24, se.color, se.width, dash, lx+30, escape(se.name))
		legend++
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// niceStep returns a round step (1, 2 or 5 times a power of ten) that cuts
// span into about n parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", math.Round(v*100)/100)
}

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
