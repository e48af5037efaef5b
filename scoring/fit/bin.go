package fit

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/creditrun/creditrun/scoring"
)

// Binning is one characteristic's coarse classes with their weights of
// evidence, fitted on a sample.
type Binning struct {
	Feature     string `json:"feature"`
	Categorical bool   `json:"categorical"`
	// Trend is "increasing" or "decreasing" (the bad rate as the value
	// rises) for a numeric feature, "" for a categorical one.
	Trend string     `json:"trend,omitempty"`
	Bins  []BinStats `json:"bins"`
	// IV is the information value Σ (good share − bad share) · WoE.
	IV float64 `json:"iv"`

	id scoring.FeatureID
	// fine are the fine classes the coarse ones were merged from (numeric:
	// ranges in order; categorical: one per category), the missing bin aside.
	fine []class
}

// BinStats is one coarse class: a range [From, To), a set of categories or
// the missing bin, with its counts on the sample and its weight of evidence
// ln(good share / bad share), smoothed towards 0 where the bin is sparse.
type BinStats struct {
	Label      string   `json:"label"`
	From       float64  `json:"-"`
	To         float64  `json:"-"`
	Categories []string `json:"categories,omitempty"`
	Missing    bool     `json:"missing,omitempty"`
	Accounts   int      `json:"accounts"`
	Bads       int      `json:"bads"`
	WoE        float64  `json:"woe"`
	// Effect is the bin's contribution to the fitted log-odds of bad.
	Effect float64 `json:"log_odds"`
	// Points is filled in once the scorecard is scaled.
	Points int32 `json:"points"`
}

// binOptions tune the classing.
type binOptions struct {
	fine     int // fine classes
	maxBins  int // coarse classes at most (besides the missing bin)
	minCount int // accounts a coarse class needs
	start    *scoring.Characteristic
}

// class is a run of accounts being classed: a range or a set of categories.
type class struct {
	from, to float64
	cats     []int
	n, bads  int
}

func (c class) rate() float64 {
	if c.n == 0 {
		return 0
	}
	return float64(c.bads) / float64(c.n)
}

func merge(a, b class) class {
	return class{from: min(a.from, b.from), to: max(a.to, b.to), cats: append(slices.Clone(a.cats), b.cats...),
		n: a.n + b.n, bads: a.bads + b.bads}
}

// binFeature classes feature id over the sample rows: fine classes (the
// start characteristic's bins if given, else quantiles with edges rounded
// to as few significant digits as keep them between the values), merged by pool-adjacent-violators into the
// monotone trend of higher information value, then merged until every
// class holds minCount accounts and there are at most maxBins. A feature
// that can be missing gets a missing bin, whatever its count.
func binFeature(id scoring.FeatureID, feats []scoring.Features, bad []bool, rows []int, o binOptions) *Binning {
	info := id.Info()
	b := &Binning{Feature: info.Name, id: id, Categorical: info.Kind == scoring.KindCategory}
	var miss class
	var totBad int
	for _, i := range rows {
		if bad[i] {
			totBad++
		}
	}
	var coarse []class
	if b.Categorical {
		coarse = classCategories(id, feats, bad, rows, o, &miss, &b.fine)
	} else {
		coarse = classNumeric(id, feats, bad, rows, o, &miss, &b.Trend, totBad, len(rows), &b.fine)
	}
	stats := func(c class, m float64) BinStats {
		return BinStats{From: c.from, To: c.to, Accounts: c.n, Bads: c.bads,
			WoE: woe(c.n-c.bads, c.bads, len(rows)-totBad, totBad, m)}
	}
	for _, c := range coarse {
		s := stats(c, 0)
		if b.Categorical {
			for _, k := range c.cats {
				s.Categories = append(s.Categories, info.Categories[k])
			}
			s.Label = "{" + joinComma(s.Categories) + "}"
		} else {
			s.Label = scoring.RangeLabel(c.from, c.to)
		}
		b.Bins = append(b.Bins, s)
	}
	if info.CanBeMissing {
		s := stats(miss, float64(o.minCount-miss.n))
		s.Missing, s.Label = true, scoring.MissingBin
		b.Bins = append(b.Bins, s)
	}
	G, B := float64(len(rows)-totBad), float64(totBad)
	for _, s := range b.Bins {
		b.IV += (float64(s.Accounts-s.Bads)/G - float64(s.Bads)/B) * s.WoE
	}
	return b
}

// woe is ln(good share / bad share) of a class with goods g and bads k
// among G goods and B bads, with m pseudo-accounts at the sample's bad rate
// added, m at least enough for half a bad (or half a good): a class without
// bads gets a finite WoE, an empty one WoE 0, and a sparse one (m above the
// minimum, for the missing bin) is drawn towards 0.
func woe(g, k, G, B int, m float64) float64 {
	if G == 0 || B == 0 {
		return 0
	}
	p := float64(B) / float64(G+B)
	m = max(m, 0.5/min(p, 1-p))
	gs := (float64(g) + m*(1-p)) / float64(G)
	bs := (float64(k) + m*p) / float64(B)
	return math.Log(gs / bs)
}

func classNumeric(id scoring.FeatureID, feats []scoring.Features, bad []bool, rows []int, o binOptions,
	miss *class, trend *string, totBad, total int, fineOut *[]class) []class {
	type obs struct {
		v   float64
		bad bool
	}
	vals := make([]obs, 0, len(rows))
	for _, i := range rows {
		f := &feats[i]
		if f.Missing[id] {
			miss.n++
			if bad[i] {
				miss.bads++
			}
			continue
		}
		vals = append(vals, obs{f.Values[id], bad[i]})
	}
	slices.SortFunc(vals, func(a, b obs) int { return cmpFloat(a.v, b.v) })
	if len(vals) == 0 {
		*fineOut = []class{{from: math.Inf(-1), to: math.Inf(1)}}
		return []class{{from: math.Inf(-1), to: math.Inf(1)}}
	}
	// Fine classes: candidate edges, kept where values fall on both sides.
	var cand []float64
	if o.start != nil {
		for _, sb := range o.start.Bins {
			if !sb.Missing && len(sb.Categories) == 0 && !math.IsInf(sb.From, -1) {
				cand = append(cand, sb.From)
			}
		}
	} else {
		// Classes of about len/fine accounts that never split a value: a
		// value held by many accounts is a class of its own, and the tail
		// beyond it is still cut.
		// Fine classes no larger than a class that may stand out (see
		// standsOut), so that such a group can be found.
		size := max(1, min(len(vals)/o.fine, max(30, o.minCount/4)))
		n := 0
		for k := 1; k < len(vals); k++ {
			n++
			if a, b := vals[k-1].v, vals[k].v; n >= size && a != b {
				e := b // the roundest number in (a, b]
				for digits := 1; digits <= 3; digits++ {
					if r := nice(b, digits); r > a && r <= b {
						e = r
						break
					}
				}
				cand = append(cand, e)
				n = 0
			}
		}
	}
	slices.Sort(cand)
	cand = slices.Compact(cand)
	var edges []float64
	for _, e := range cand {
		if vals[0].v < e && vals[len(vals)-1].v >= e {
			edges = append(edges, e)
		}
	}
	fine := make([]class, len(edges)+1)
	for k := range fine {
		fine[k].from, fine[k].to = math.Inf(-1), math.Inf(1)
		if k > 0 {
			fine[k].from = edges[k-1]
		}
		if k < len(edges) {
			fine[k].to = edges[k]
		}
	}
	k := 0
	for _, v := range vals {
		for k < len(edges) && v.v >= edges[k] {
			k++
		}
		fine[k].n++
		if v.bad {
			fine[k].bads++
		}
	}
	*fineOut = fine
	best, bestIV := []class(nil), math.Inf(-1)
	for _, dir := range []string{"increasing", "decreasing"} {
		c := poolAdjacent(slices.Clone(fine), dir == "increasing")
		c = mergeSmall(c, o.minCount, o.maxBins)
		if iv := classesIV(c, totBad, total); iv > bestIV {
			best, bestIV, *trend = c, iv, dir
		}
	}
	return best
}

// poolAdjacent merges neighbouring classes until the bad rate rises
// (increasing) or falls from each class to the next.
func poolAdjacent(cs []class, increasing bool) []class {
	out := make([]class, 0, len(cs))
	for _, c := range cs {
		out = append(out, c)
		for len(out) > 1 {
			a, b := out[len(out)-2], out[len(out)-1]
			ok := a.rate() < b.rate()
			if !increasing {
				ok = a.rate() > b.rate()
			}
			if ok && a.n > 0 && b.n > 0 {
				break
			}
			out = append(out[:len(out)-2], merge(a, b))
		}
	}
	return out
}

// mergeSmall merges the smallest class below minCount that does not stand
// out (see standsOut) (or, past maxBins,
// the pair of neighbours with the closest bad rates) into the neighbour
// whose bad rate is closest, until none is left. Merging neighbours keeps
// a monotone trend.
func mergeSmall(cs []class, minCount, maxBins int) []class {
	for len(cs) > 1 {
		small := -1
		for i, c := range cs {
			if c.n < minCount && !standsOut(cs, i, minCount) && (small < 0 || c.n < cs[small].n) {
				small = i
			}
		}
		var i int // merge cs[i] and cs[i+1]
		switch {
		case small >= 0:
			switch {
			case small == 0:
				i = 0
			case small == len(cs)-1:
				i = small - 1
			case math.Abs(cs[small].rate()-cs[small-1].rate()) <= math.Abs(cs[small].rate()-cs[small+1].rate()):
				i = small - 1
			default:
				i = small
			}
		case len(cs) > maxBins:
			i = 0
			for j := 1; j+1 < len(cs); j++ {
				if math.Abs(cs[j].rate()-cs[j+1].rate()) < math.Abs(cs[i].rate()-cs[i+1].rate()) {
					i = j
				}
			}
		default:
			return cs
		}
		cs = slices.Replace(cs, i, i+2, merge(cs[i], cs[i+1]))
	}
	return cs
}

// standsOut reports whether class i, though below minCount, has enough
// accounts (a quarter of minCount, 30 at least) and a bad rate so far from
// each neighbour's (a two-proportion z of 4 or more, p < 0.0001) that the
// data supports it as a class of its own: a small group that nearly always
// goes bad is what a scorecard must not dilute.
func standsOut(cs []class, i, minCount int) bool {
	c := cs[i]
	if c.n < max(30, minCount/4) {
		return false
	}
	for _, j := range []int{i - 1, i + 1} {
		if j < 0 || j >= len(cs) {
			continue
		}
		d := cs[j]
		p := float64(c.bads+d.bads) / float64(c.n+d.n)
		se := math.Sqrt(p * (1 - p) * (1/float64(c.n) + 1/float64(d.n)))
		if se == 0 || math.Abs(c.rate()-d.rate())/se < 4 {
			return false
		}
	}
	return true
}

func classesIV(cs []class, totBad, total int) float64 {
	G, B := total-totBad, totBad
	iv := 0.0
	for _, c := range cs {
		iv += (float64(c.n-c.bads)/float64(G) - float64(c.bads)/float64(B)) * woe(c.n-c.bads, c.bads, G, B, 0)
	}
	return iv
}

func classCategories(id scoring.FeatureID, feats []scoring.Features, bad []bool, rows []int, o binOptions, miss *class, fineOut *[]class) []class {
	cats := id.Info().Categories
	per := make([]class, len(cats))
	for k := range per {
		per[k].cats = []int{k}
	}
	for _, i := range rows {
		f := &feats[i]
		if f.Missing[id] {
			miss.n++
			if bad[i] {
				miss.bads++
			}
			continue
		}
		if k := int(f.Values[id]); k >= 0 && k < len(per) {
			per[k].n++
			if bad[i] {
				per[k].bads++
			}
		}
	}
	*fineOut = slices.Clone(per)
	// Start groups: the start characteristic's, else one per category seen.
	var groups []class
	var empty []int
	if o.start != nil {
		for _, sb := range o.start.Bins {
			var g class
			for _, name := range sb.Categories {
				if k := slices.Index(cats, name); k >= 0 {
					g = merge(g, per[k])
				}
			}
			if len(g.cats) > 0 {
				groups = append(groups, g)
			}
		}
	} else {
		for _, c := range per {
			if c.n == 0 {
				empty = append(empty, c.cats[0])
				continue
			}
			groups = append(groups, c)
		}
	}
	if len(groups) == 0 {
		return []class{per[0]}
	}
	sort.SliceStable(groups, func(a, b int) bool { return groups[a].rate() < groups[b].rate() })
	groups = mergeSmall(groups, o.minCount, o.maxBins)
	// A category the sample never shows goes to the class nearest the
	// sample's bad rate: the data says nothing about it.
	if len(empty) > 0 {
		var n, k int
		for _, g := range groups {
			n, k = n+g.n, k+g.bads
		}
		p, near := float64(k)/float64(max(n, 1)), 0
		for i, g := range groups {
			if math.Abs(g.rate()-p) < math.Abs(groups[near].rate()-p) {
				near = i
			}
		}
		groups[near].cats = append(groups[near].cats, empty...)
	}
	for i := range groups {
		slices.Sort(groups[i].cats)
	}
	return groups
}

// nice rounds v to the significant digits, so that an edge reads like a
// person wrote it (0.35, 670, 1200).
func nice(v float64, digits int) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	return r
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// constant reports whether the sample shows a single fine class (a value,
// a category, or only missing values).
func (b *Binning) constant() bool {
	seen := 0
	for _, c := range b.fine {
		if c.n > 0 {
			seen++
		}
	}
	if n := len(b.Bins); n > 0 && b.Bins[n-1].Missing && b.Bins[n-1].Accounts > 0 {
		seen++
	}
	return seen < 2
}

// index returns the bin of f's value.
func (b *Binning) index(f *scoring.Features) int {
	if f.Missing[b.id] {
		if n := len(b.Bins); n > 0 && b.Bins[n-1].Missing {
			return n - 1
		}
		return 0
	}
	v := f.Values[b.id]
	if b.Categorical {
		name := ""
		if cats := b.id.Info().Categories; int(v) >= 0 && int(v) < len(cats) {
			name = cats[int(v)]
		}
		for j, s := range b.Bins {
			if slices.Contains(s.Categories, name) {
				return j
			}
		}
		return 0
	}
	for j, s := range b.Bins {
		if !s.Missing && v < s.To {
			return j
		}
	}
	return 0
}
