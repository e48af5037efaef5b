package fit

import (
	"math"
	"slices"

	"github.com/creditrun/creditrun/scoring"
)

// additive is a scorecard's log-odds as a sum of one step function per
// characteristic, fitted bin by bin given the other characteristics
// (backfitting): the points of a characteristic measure what it adds to
// the others, not what it says alone, so that a characteristic whose
// weight of evidence is flat on its own but telling next to the others (a
// suppressor) still counts, and two that say the same are not counted twice.
type additive struct {
	intercept float64
	terms     []term
}

// term is one characteristic's step function: units are its fine classes
// (plus the missing value), blocks the coarse classes they are merged into.
type term struct {
	char    int   // index into the characteristics
	unit    []int // unit of each fitting row
	units   []unitStats
	missing int // unit of the missing value, or -1
	// block of each unit, and each block's log-odds contribution.
	block   []int
	effect  []float64
	trend   string
	ordered bool // numeric: units in value order
}

type unitStats struct {
	n, bads int
	g, h    float64
	est     float64
	// prior is the log-odds the penalty draws the unit towards.
	prior float64
}

// maxStep bounds a unit's Newton step in log-odds.
const maxStep = 1.0

// backfitOptions tune the backfitting.
type backfitOptions struct {
	minCount, maxBins int
	// ridge is the penalty on each unit's log-odds: the information of
	// about ridge bads, drawing a sparse unit towards its prior.
	ridge  float64
	rounds int
	// intercept goes with the prior.
	intercept float64
}

// fitAdditive fits the step functions of the characteristics over the
// fitting rows by penalised backfitting: round after round, each
// characteristic's units get one Newton step of their log-odds given the
// rest, are pooled into a monotone sequence (numeric characteristics, in
// the direction the data fits better) and merged until every block holds
// minCount accounts (unless it stands out) and there are at most maxBins.
//
// prior, if not nil, gives each characteristic's starting log-odds (its
// effect in a simpler model) as a function of a value: the units start
// there and the penalty draws them towards it, so that a sparse sample
// keeps the simpler model and a rich one moves away from it where the data
// says so.
func fitAdditive(chars []CharacteristicReport, cand []int, feats []scoring.Features, bad []bool, rows []int, o backfitOptions,
	prior func(k int, f *scoring.Features) float64) *additive {
	n := len(rows)
	nBad := 0
	for _, i := range rows {
		if bad[i] {
			nBad++
		}
	}
	m := &additive{intercept: math.Log(float64(nBad) / float64(n-nBad))}
	for _, k := range cand {
		c := &chars[k]
		t := term{char: k, unit: make([]int, n), missing: -1, ordered: !c.Categorical}
		nu := len(c.fine)
		info := c.id.Info()
		if info.CanBeMissing {
			t.missing = nu
			nu++
		}
		t.units = make([]unitStats, nu)
		for r, i := range rows {
			u := c.fineIndex(&feats[i])
			if u < 0 {
				u = t.missing
			}
			t.unit[r] = u
			t.units[u].n++
			if bad[i] {
				t.units[u].bads++
			}
		}
		// Start: every unit its own block at its prior.
		t.block = make([]int, nu)
		t.effect = make([]float64, nu)
		for u := range nu {
			t.block[u] = u
		}
		if prior != nil {
			for u := range nu {
				var f scoring.Features
				switch {
				case u == t.missing:
					f.Missing[c.id] = true
				case c.Categorical:
					f.Values[c.id] = float64(u)
				default:
					f.Values[c.id] = c.fine[u].from
				}
				t.units[u].prior = prior(k, &f)
				t.effect[u] = t.units[u].prior
			}
		}
		m.terms = append(m.terms, t)
	}
	if prior != nil {
		m.intercept = o.intercept
	}
	eta := make([]float64, n)
	for r := range eta {
		eta[r] = m.intercept
		for _, t := range m.terms {
			eta[r] += t.effect[t.block[t.unit[r]]]
		}
	}
	for range o.rounds {
		for ti := range m.terms {
			t := &m.terms[ti]
			for u := range t.units {
				t.units[u].g, t.units[u].h = 0, 0
			}
			for r, i := range rows {
				mu := sigmoid(eta[r])
				us := &t.units[t.unit[r]]
				if bad[i] {
					us.g += 1 - mu
				} else {
					us.g -= mu
				}
				us.h += mu * (1 - mu)
			}
			old := make([]float64, len(t.units))
			for u := range t.units {
				us := &t.units[u]
				old[u] = t.effect[t.block[u]]
				// One Newton step of ll(θ) − ridge/2 · θ² from the current θ,
				// at most maxStep long: far from the optimum (a class that
				// nearly always goes bad) a full step overshoots.
				step := (us.g - o.ridge*(old[u]-us.prior)) / (us.h + o.ridge)
				us.est = old[u] + min(max(step, -maxStep), maxStep)
			}
			t.regroup(o)
			// Centre on the fitting rows; the intercept takes the mean.
			mean := 0.0
			for u := range t.units {
				mean += float64(t.units[u].n) * t.effect[t.block[u]]
			}
			mean /= float64(n)
			for b := range t.effect {
				t.effect[b] -= mean
			}
			for u := range t.units {
				t.units[u].prior -= mean
			}
			m.intercept += mean
			for r := range rows {
				u := t.unit[r]
				eta[r] += t.effect[t.block[u]] - old[u] + mean
			}
		}
		// The intercept: one Newton step.
		var g, h float64
		for r, i := range rows {
			mu := sigmoid(eta[r])
			if bad[i] {
				g += 1 - mu
			} else {
				g -= mu
			}
			h += mu * (1 - mu)
		}
		if h > 0 {
			d := g / h
			m.intercept += d
			for r := range eta {
				eta[r] += d
			}
		}
	}
	return m
}

// regroup pools the units' estimates into blocks: monotone in the better
// direction for a numeric characteristic, ordered by estimate for a
// categorical one, then merged until every block is large enough and
// there are at most maxBins; the missing unit is a block of its own.
func (t *term) regroup(o backfitOptions) {
	var order []int
	for u := range t.units {
		if u != t.missing {
			order = append(order, u)
		}
	}
	w := func(u int) float64 { return t.units[u].h + o.ridge }
	if !t.ordered {
		slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(t.units[a].est, t.units[b].est) })
	}
	type blk struct {
		units  []int
		w, sum float64
		n      int
		bads   int
	}
	pool := func(increasing bool) ([]blk, float64) {
		var bs []blk
		for _, u := range order {
			bs = append(bs, blk{units: []int{u}, w: w(u), sum: w(u) * t.units[u].est, n: t.units[u].n, bads: t.units[u].bads})
			for len(bs) > 1 {
				a, b := bs[len(bs)-2], bs[len(bs)-1]
				va, vb := a.sum/a.w, b.sum/b.w
				if (increasing && va < vb) || (!increasing && va > vb) {
					break
				}
				bs = append(bs[:len(bs)-2], blk{units: append(a.units, b.units...), w: a.w + b.w, sum: a.sum + b.sum, n: a.n + b.n, bads: a.bads + b.bads})
			}
		}
		loss := 0.0
		for _, b := range bs {
			v := b.sum / b.w
			for _, u := range b.units {
				d := t.units[u].est - v
				loss += w(u) * d * d
			}
		}
		return bs, loss
	}
	bs, loss := pool(true)
	t.trend = "increasing"
	if t.ordered {
		if dec, l := pool(false); l < loss {
			bs, t.trend = dec, "decreasing"
		}
	} else {
		t.trend = ""
	}
	// Merge small blocks into the neighbour of the closest effect, and
	// past maxBins the closest neighbours.
	value := func(b blk) float64 { return b.sum / b.w }
	for len(bs) > 1 {
		small := -1
		for i, b := range bs {
			if b.n < o.minCount && !blockStandsOut(bs[max(i-1, 0)].n, bs[max(i-1, 0)].bads, b.n, b.bads, o.minCount, i > 0) &&
				(small < 0 || b.n < bs[small].n) {
				small = i
			}
		}
		var i int
		switch {
		case small >= 0:
			switch {
			case small == 0:
				i = 0
			case small == len(bs)-1:
				i = small - 1
			case math.Abs(value(bs[small])-value(bs[small-1])) <= math.Abs(value(bs[small])-value(bs[small+1])):
				i = small - 1
			default:
				i = small
			}
		case len(bs) > o.maxBins:
			i = 0
			for j := 1; j+1 < len(bs); j++ {
				if math.Abs(value(bs[j])-value(bs[j+1])) < math.Abs(value(bs[i])-value(bs[i+1])) {
					i = j
				}
			}
		default:
			i = -1
		}
		if i < 0 {
			break
		}
		a, b := bs[i], bs[i+1]
		bs = slices.Replace(bs, i, i+2, blk{units: append(slices.Clone(a.units), b.units...), w: a.w + b.w, sum: a.sum + b.sum, n: a.n + b.n, bads: a.bads + b.bads})
	}
	t.effect = t.effect[:0]
	for bi, b := range bs {
		for _, u := range b.units {
			t.block[u] = bi
		}
		t.effect = append(t.effect, value(b))
	}
	if t.missing >= 0 {
		t.block[t.missing] = len(t.effect)
		t.effect = append(t.effect, t.units[t.missing].est)
	}
}

// blockStandsOut is standsOut for a block against its left neighbour: a
// small block with a bad rate far from its neighbour's is kept.
func blockStandsOut(nn, nb, n, b, minCount int, hasLeft bool) bool {
	if !hasLeft || n < max(30, minCount/4) {
		return false
	}
	p := float64(b+nb) / float64(n+nn)
	se := math.Sqrt(p * (1 - p) * (1/float64(n) + 1/float64(nn)))
	return se > 0 && math.Abs(float64(b)/float64(n)-float64(nb)/float64(nn))/se >= 4
}

// fineIndex returns the fine class of f's value, or -1 if it is missing.
func (b *Binning) fineIndex(f *scoring.Features) int {
	if f.Missing[b.id] {
		return -1
	}
	v := f.Values[b.id]
	if b.Categorical {
		if k := int(v); k >= 0 && k < len(b.fine) {
			return k
		}
		return 0
	}
	for j, c := range b.fine {
		if v < c.to {
			return j
		}
	}
	return len(b.fine) - 1
}

// minEffect is the least range of log-odds a characteristic's bins must
// span to stay in the scorecard: less is under a point at the usual scalings
// (factor = PDO / ln 2, 58 points per unit of log-odds at a PDO of 40).
const minEffect = 0.01

// apply makes the term's blocks the characteristic's bins, with their
// counts, weights of evidence and effects; a term whose effects span less
// than minEffect is not selected.
func (t *term) apply(c *CharacteristicReport, feats []scoring.Features, bad []bool, rows []int) {
	info := c.id.Info()
	nb := len(t.effect)
	stats := make([]BinStats, nb)
	for b := range stats {
		stats[b].From, stats[b].To = math.Inf(1), math.Inf(-1)
		stats[b].Effect = t.effect[b]
	}
	for u, us := range t.units {
		st := &stats[t.block[u]]
		st.Accounts += us.n
		st.Bads += us.bads
		switch {
		case u == t.missing:
			st.Missing = true
		case c.Categorical:
			st.Categories = append(st.Categories, info.Categories[u])
		default:
			st.From, st.To = min(st.From, c.fine[u].from), max(st.To, c.fine[u].to)
		}
	}
	var totBad int
	for _, i := range rows {
		if bad[i] {
			totBad++
		}
	}
	G, B := len(rows)-totBad, totBad
	c.Bins, c.IV, c.Trend = c.Bins[:0], 0, t.trend
	lo, hi := math.Inf(1), math.Inf(-1)
	for b := range stats {
		st := stats[b]
		if !st.Missing && len(st.Categories) == 0 && math.IsInf(st.From, 1) {
			continue // a block of no unit
		}
		st.WoE = woe(st.Accounts-st.Bads, st.Bads, G, B, 0)
		switch {
		case st.Missing:
			st.Label = scoring.MissingBin
		case c.Categorical:
			slices.Sort(st.Categories)
			st.Label = "{" + joinComma(st.Categories) + "}"
		default:
			st.Label = scoring.RangeLabel(st.From, st.To)
		}
		c.IV += (float64(st.Accounts-st.Bads)/float64(G) - float64(st.Bads)/float64(B)) * st.WoE
		if st.Accounts > 0 {
			lo, hi = min(lo, st.Effect), max(hi, st.Effect)
		}
		c.Bins = append(c.Bins, st)
	}
	if !(hi-lo >= minEffect) {
		c.Selected, c.Dropped = false, "no effect next to the others"
	}
}
