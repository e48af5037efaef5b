package report

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// The charts are inline SVG, drawn here: a title, axes with their labels
// and units, and marks that each carry a <title> with their numbers (the
// browser's tooltip), so that a chart reads without any script.

const (
	chartW   = 660
	chartH   = 300
	marginL  = 70
	marginR  = 20
	marginT  = 34
	marginB  = 50
	fontSize = 11
)

// palette is colour-blind safe (Okabe–Ito), then greys.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#7F3C8D", "#999999", "#666666", "#BBBBBB", "#444444"}

func color(i int) string { return palette[i%len(palette)] }

// series is one set of values of a chart; NaN is no value. Lo and Hi,
// when set, are an interval around each value.
type series struct {
	Name   string
	Y      []float64
	Lo, Hi []float64
	Color  string
}

// ref is a reference line at a value of the value axis.
type ref struct {
	At    float64
	Label string
	Color string
}

// svg accumulates the elements of one chart.
type svg struct {
	b    strings.Builder
	w, h int
}

func newSVG(title string, w, h int) *svg {
	s := &svg{w: w, h: h}
	fmt.Fprintf(&s.b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		w, h, w, h, esc(title))
	fmt.Fprintf(&s.b, `<text class="title" x="%d" y="18">%s</text>`, 8, esc(title))
	return s
}

func (s *svg) text(x, y float64, anchor, class, t string, rotate bool) {
	tr := ""
	if rotate {
		tr = fmt.Sprintf(` transform="rotate(-90 %s %s)"`, f1(x), f1(y))
	}
	fmt.Fprintf(&s.b, `<text x="%s" y="%s" text-anchor="%s" class="%s"%s>%s</text>`, f1(x), f1(y), anchor, class, tr, esc(t))
}

func (s *svg) line(x1, y1, x2, y2 float64, stroke string, width float64, dash string) {
	d := ""
	if dash != "" {
		d = ` stroke-dasharray="` + dash + `"`
	}
	fmt.Fprintf(&s.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`, f1(x1), f1(y1), f1(x2), f1(y2), stroke, f1(width), d)
}

func (s *svg) rect(x, y, w, h float64, fill, tip string) {
	if h < 0 {
		y, h = y+h, -h
	}
	if w < 0 {
		x, w = x+w, -w
	}
	fmt.Fprintf(&s.b, `<rect class="mark" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`,
		f1(x), f1(y), f1(max(w, 0.5)), f1(max(h, 0.5)), fill, esc(tip))
}

func (s *svg) html() template.HTML {
	s.b.WriteString(`</svg>`)
	return template.HTML(s.b.String()) // every text went through esc
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// scale maps [lo, hi] onto [a, b].
type scale struct{ lo, hi, a, b float64 }

func (c scale) at(v float64) float64 {
	if c.hi == c.lo {
		return (c.a + c.b) / 2
	}
	return c.a + (v-c.lo)/(c.hi-c.lo)*(c.b-c.a)
}

// niceTicks returns about n round ticks covering [lo, hi], and the range
// they span.
func niceTicks(lo, hi float64, n int) ([]float64, float64, float64) {
	if math.IsNaN(lo) || math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if hi <= lo {
		hi = lo + 1
		if lo > 0 {
			lo = 0
		}
	}
	step := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(step)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= step {
			step = m * mag
			break
		}
	}
	start := math.Floor(lo/step) * step
	end := math.Ceil(hi/step) * step
	var ticks []float64
	for v := start; v <= end+step/2; v += step {
		ticks = append(ticks, math.Round(v/step)*step)
	}
	return ticks, start, end
}

// valueRange is the range of every value, intervals and references, with 0.
func valueRange(ser []series, refs []ref, withZero bool) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	if withZero {
		lo, hi = 0, 0
	}
	see := func(v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	for _, s := range ser {
		for i, v := range s.Y {
			see(v)
			if s.Lo != nil {
				see(s.Lo[i])
				see(s.Hi[i])
			}
		}
	}
	for _, r := range refs {
		see(r.At)
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	return lo, hi
}

// barChart draws cats along the x axis with one bar per series each; a
// series with Lo and Hi draws its interval as a whisker.
func barChart(title, xLabel, yLabel string, cats []string, ser []series, unit func(float64) string, refs ...ref) template.HTML {
	s := newSVG(title, chartW, chartH)
	x0, x1, y0, y1 := float64(marginL), float64(chartW-marginR), float64(chartH-marginB), float64(marginT)
	lo, hi := valueRange(ser, refs, true)
	ticks, tlo, thi := niceTicks(lo, hi, 5)
	y := scale{tlo, thi, y0, y1}
	s.yAxis(ticks, y, x0, x1, yLabel, unit)
	band := (x1 - x0) / float64(max(len(cats), 1))
	bw := band * 0.8 / float64(max(len(ser), 1))
	for i, c := range cats {
		bx := x0 + band*float64(i) + band*0.1
		for k, sr := range ser {
			v := sr.Y[i]
			if math.IsNaN(v) {
				continue
			}
			fill := sr.Color
			if fill == "" {
				fill = color(k)
			}
			tip := c + ": " + unit(v)
			if sr.Name != "" {
				tip = sr.Name + " · " + tip
			}
			if sr.Lo != nil {
				tip += " (95% " + unit(sr.Lo[i]) + " – " + unit(sr.Hi[i]) + ")"
			}
			s.rect(bx+bw*float64(k), y.at(0), bw-1, y.at(v)-y.at(0), fill, tip)
			if sr.Lo != nil {
				cx := bx + bw*float64(k) + bw/2
				s.line(cx, y.at(sr.Lo[i]), cx, y.at(sr.Hi[i]), "#222", 1.2, "")
				s.line(cx-4, y.at(sr.Lo[i]), cx+4, y.at(sr.Lo[i]), "#222", 1.2, "")
				s.line(cx-4, y.at(sr.Hi[i]), cx+4, y.at(sr.Hi[i]), "#222", 1.2, "")
			}
		}
		s.text(x0+band*(float64(i)+0.5), y0+14, "middle", "tick", shorten(c, int(band/6)), false)
	}
	for _, r := range refs {
		s.line(x0, y.at(r.At), x1, y.at(r.At), r.Color, 1.2, "5 3")
		s.text(x1-2, y.at(r.At)-3, "end", "ref", r.Label, false)
	}
	s.text((x0+x1)/2, float64(chartH-8), "middle", "axis", xLabel, false)
	s.legend(ser, x0)
	return s.html()
}

// hbarChart draws cats down the y axis, bars along x; for long labels.
func hbarChart(title, xLabel, yLabel string, cats []string, ser []series, unit func(float64) string, refs ...ref) template.HTML {
	const labelW = 230
	rowH := 18.0
	if len(ser) > 1 {
		rowH = 12 * float64(len(ser))
	}
	h := int(float64(marginT)+rowH*float64(len(cats))) + marginB
	s := newSVG(title, chartW, max(h, 120))
	x0, x1, y0 := float64(labelW), float64(chartW-marginR-40), float64(marginT)
	lo, hi := valueRange(ser, refs, true)
	ticks, tlo, thi := niceTicks(lo, hi, 5)
	x := scale{tlo, thi, x0, x1}
	yEnd := y0 + rowH*float64(len(cats))
	for _, t := range ticks {
		s.line(x.at(t), y0, x.at(t), yEnd, "#e3e3e3", 1, "")
		s.text(x.at(t), yEnd+14, "middle", "tick", unit(t), false)
	}
	s.line(x.at(0), y0, x.at(0), yEnd, "#555", 1, "")
	bh := rowH * 0.8 / float64(max(len(ser), 1))
	for i, c := range cats {
		by := y0 + rowH*float64(i) + rowH*0.1
		s.text(x0-6, y0+rowH*(float64(i)+0.5)+4, "end", "tick", shorten(c, 38), false)
		for k, sr := range ser {
			v := sr.Y[i]
			if math.IsNaN(v) {
				continue
			}
			fill := sr.Color
			if fill == "" {
				fill = color(k)
			}
			tip := c + ": " + unit(v)
			if sr.Name != "" {
				tip = sr.Name + " · " + tip
			}
			s.rect(x.at(0), by+bh*float64(k), x.at(v)-x.at(0), bh-1, fill, tip)
		}
	}
	for _, r := range refs {
		s.line(x.at(r.At), y0-4, x.at(r.At), yEnd, r.Color, 1.5, "5 3")
		s.text(x.at(r.At)+2, y0-6, "start", "ref", r.Label, false)
	}
	s.text((x0+x1)/2, yEnd+34, "middle", "axis", xLabel, false)
	s.text(12, (y0+yEnd)/2, "middle", "axis", yLabel, true)
	s.legend(ser, x0)
	return s.html()
}

// lineChart draws series over xs; xTick names a position of the x axis.
func lineChart(title, xLabel, yLabel string, xs []float64, xTick func(float64) string, ser []series, unit func(float64) string, refs ...ref) template.HTML {
	s := newSVG(title, chartW, chartH+12)
	x0, x1, y0, y1 := float64(marginL), float64(chartW-marginR), float64(chartH-marginB), float64(marginT)
	lo, hi := valueRange(ser, refs, true)
	ticks, tlo, thi := niceTicks(lo, hi, 5)
	y := scale{tlo, thi, y0, y1}
	xlo, xhi := xs[0], xs[len(xs)-1]
	x := scale{xlo, xhi, x0, x1}
	s.yAxis(ticks, y, x0, x1, yLabel, unit)
	xt, _, _ := niceTicks(xlo, xhi, 6)
	for _, t := range xt {
		if t >= xlo && t <= xhi {
			s.line(x.at(t), y0, x.at(t), y0+4, "#555", 1, "")
			s.text(x.at(t), y0+16, "middle", "tick", xTick(t), false)
		}
	}
	for k, sr := range ser {
		stroke := sr.Color
		if stroke == "" {
			stroke = color(k)
		}
		var path strings.Builder
		pen := false
		var last int = -1
		for i, v := range sr.Y {
			if math.IsNaN(v) {
				pen = false
				continue
			}
			if pen {
				path.WriteString(" L")
			} else {
				path.WriteString(" M")
			}
			fmt.Fprintf(&path, "%s %s", f1(x.at(xs[i])), f1(y.at(v)))
			pen, last = true, i
		}
		if last < 0 {
			continue
		}
		fmt.Fprintf(&s.b, `<path class="mark" d="%s" fill="none" stroke="%s" stroke-width="1.8"><title>%s</title></path>`,
			strings.TrimSpace(path.String()), stroke, esc(sr.Name+": last "+unit(sr.Y[last])+" at "+xTick(xs[last])))
		// Points carry each value; on long series only every few.
		every := max(1, len(sr.Y)/60)
		for i, v := range sr.Y {
			if math.IsNaN(v) || i%every != 0 && i != last {
				continue
			}
			fmt.Fprintf(&s.b, `<circle class="mark" cx="%s" cy="%s" r="2.2" fill="%s"><title>%s</title></circle>`,
				f1(x.at(xs[i])), f1(y.at(v)), stroke, esc(strings.TrimPrefix(sr.Name+" · ", " · ")+xTick(xs[i])+": "+unit(v)))
		}
	}
	for _, r := range refs {
		s.line(x0, y.at(r.At), x1, y.at(r.At), r.Color, 1.2, "5 3")
		s.text(x1-2, y.at(r.At)-3, "end", "ref", r.Label, false)
	}
	s.text((x0+x1)/2, float64(chartH-14), "middle", "axis", xLabel, false)
	s.legendBelow(ser, x0, float64(chartH))
	return s.html()
}

// heatmap draws a matrix of shares with their text, rows down and columns
// across.
func heatmap(title, rowLabel, colLabel string, rows, cols []string, share [][]float64, tips [][]string) template.HTML {
	const labelW, cell, cellH = 90.0, 62.0, 24.0
	w := int(labelW + cell*float64(len(cols)) + 30)
	h := int(marginT + 30 + cellH*float64(len(rows)) + 36)
	s := newSVG(title, max(w, 420), h)
	top := float64(marginT) + 30
	for j, c := range cols {
		s.text(labelW+cell*(float64(j)+0.5), top-6, "middle", "tick", c, false)
	}
	s.text(labelW+cell*float64(len(cols))/2, float64(marginT)+8, "middle", "axis", colLabel, false)
	for i, r := range rows {
		y := top + cellH*float64(i)
		s.text(labelW-6, y+cellH/2+4, "end", "tick", r, false)
		for j := range cols {
			v := share[i][j]
			if math.IsNaN(v) {
				continue
			}
			fill := fmt.Sprintf("rgba(0,114,178,%.3f)", 0.06+0.94*math.Sqrt(v))
			s.rect(labelW+cell*float64(j)+1, y+1, cell-2, cellH-2, fill, tips[i][j])
			class := "cell"
			if v > 0.45 {
				class = "cell light"
			}
			s.text(labelW+cell*(float64(j)+0.5), y+cellH/2+4, "middle", class, pct(v, 1), false)
		}
	}
	s.text(12, top+cellH*float64(len(rows))/2, "middle", "axis", rowLabel, true)
	return s.html()
}

func (s *svg) yAxis(ticks []float64, y scale, x0, x1 float64, label string, unit func(float64) string) {
	for _, t := range ticks {
		s.line(x0, y.at(t), x1, y.at(t), "#e3e3e3", 1, "")
		s.text(x0-6, y.at(t)+4, "end", "tick", unit(t), false)
	}
	s.line(x0, y.at(0), x1, y.at(0), "#555", 1, "")
	s.text(14, (y.a+y.b)/2, "middle", "axis", label, true)
}

func (s *svg) legend(ser []series, x0 float64) {
	if len(ser) < 2 {
		return
	}
	x := x0
	for k, sr := range ser {
		c := sr.Color
		if c == "" {
			c = color(k)
		}
		fmt.Fprintf(&s.b, `<rect x="%s" y="24" width="10" height="10" fill="%s"/>`, f1(x), c)
		s.text(x+14, 33, "start", "legend", sr.Name, false)
		x += 24 + 6.8*float64(len([]rune(sr.Name)))
	}
}

// legendBelow lists the series under the chart, wrapping.
func (s *svg) legendBelow(ser []series, x0, y float64) {
	if len(ser) < 2 {
		return
	}
	x := x0
	for k, sr := range ser {
		c := sr.Color
		if c == "" {
			c = color(k)
		}
		w := 24 + 6.8*float64(len([]rune(sr.Name)))
		if x+w > float64(s.w) {
			x, y = x0, y+14
		}
		fmt.Fprintf(&s.b, `<rect x="%s" y="%s" width="10" height="3" fill="%s"/>`, f1(x), f1(y-4), c)
		s.text(x+14, y, "start", "legend", sr.Name, false)
		x += w
	}
	if y+8 > float64(s.h) { // grow to fit the legend
		old := fmt.Sprintf(`viewBox="0 0 %d %d" width="%d" height="%d"`, s.w, s.h, s.w, s.h)
		s.h = int(y + 8)
		str := strings.Replace(s.b.String(), old, fmt.Sprintf(`viewBox="0 0 %d %d" width="%d" height="%d"`, s.w, s.h, s.w, s.h), 1)
		s.b.Reset()
		s.b.WriteString(str)
	}
}

func shorten(s string, n int) string {
	r := []rune(s)
	if n < 4 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
