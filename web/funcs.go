package web

import (
	"fmt"
	"html/template"
	"time"
)

var funcs = template.FuncMap{
	"stamp": stamp,
	"short": func(s string) string {
		if len(s) <= 16 {
			return s
		}
		return s[:12] + "…"
	},
	"shortDID": shortDID,
	"deref": func(p any) any {
		switch v := p.(type) {
		case *string:
			if v == nil {
				return ""
			}
			return *v
		case *int64:
			if v == nil {
				return int64(0)
			}
			return *v
		case *int:
			if v == nil {
				return 0
			}
			return *v
		case *time.Time:
			if v == nil {
				return ""
			}
			return stamp(*v)
		case *[]string:
			if v == nil {
				return []string(nil)
			}
			return *v
		}
		return p
	},
	"add": func(a, b int) int { return a + b },
}

// stamp formats t for people: UTC, to the second.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// chart is a horizontal bar chart drawn as inline SVG on the server: no
// script, no library; the numbers are also in a table for screen readers.
type chart struct {
	Width, Height int
	Bars          []bar
}

type bar struct {
	Label      string
	Value      int64
	Y, W       int
	LabelY     int
	ValueX     int
	Percentage string
}

const (
	// chartWidth is the chart's width in its own units; its text is 14
	// units high, so the page shows it no wider than a phone's screen
	// (.chart in site.css) and the text stays readable there.
	chartWidth  = 360
	chartLabelW = 0
	barHeight   = 28
	barGap      = 30
)

// barChart draws one bar per option, scaled to the largest count.
func barChart(labels []string, values []int64) chart {
	var max, total int64
	for _, v := range values {
		total += v
		if v > max {
			max = v
		}
	}
	c := chart{Width: chartWidth}
	y := 0
	for i, l := range labels {
		var v int64
		if i < len(values) {
			v = values[i]
		}
		w := 0
		if max > 0 {
			w = int(v * (chartWidth - 120) / max)
		}
		pct := "0%"
		if total > 0 {
			pct = fmt.Sprintf("%.1f%%", 100*float64(v)/float64(total))
		}
		c.Bars = append(c.Bars, bar{Label: l, Value: v, Y: y + 20, W: w, LabelY: y + 14, ValueX: w + 8, Percentage: pct})
		y += barHeight + barGap
	}
	c.Height = y + 4
	return c
}
