package fit

import (
	"math"

	"github.com/creditrun/creditrun/scoring"
)

// Baseline is a plain logistic regression on the raw values of the
// candidate features: numeric ones standardised on the fitting accounts, a
// missing value set to the mean with a flag column, categories one-hot
// without the most frequent. It is what the scorecard is measured against.
type Baseline struct {
	cols  []baseCol
	model *Logistic
}

type baseCol struct {
	id        scoring.FeatureID
	cat       int // category, or -1 for the value
	missing   bool
	mean, std float64
}

// Score returns the regression's score of f: minus its log-odds of bad,
// so that higher is better, as for a scorecard.
func (b *Baseline) Score(f *scoring.Features) float64 {
	x := make([]float64, len(b.cols))
	b.row(f, x)
	return -b.model.Eta(x)
}

func (b *Baseline) row(f *scoring.Features, x []float64) {
	for j, c := range b.cols {
		x[j] = 0
		switch {
		case c.missing:
			if f.Missing[c.id] {
				x[j] = 1
			}
		case c.cat >= 0:
			if !f.Missing[c.id] && int(f.Values[c.id]) == c.cat {
				x[j] = 1
			}
		case !f.Missing[c.id]:
			x[j] = (f.Values[c.id] - c.mean) / c.std
		}
	}
}

// regressionBaseline fits the Baseline on the fitting accounts and returns
// it with its metrics on them and on the holdout.
func regressionBaseline(names []string, s Sample, train, hold []int, l2 float64) (bl *Baseline, in, out Metrics, err error) {
	type col = baseCol
	var cols []col
	for _, name := range names {
		id, _ := scoring.FeatureByName(name)
		info := id.Info()
		if info.Kind == scoring.KindCategory {
			counts := make([]int, len(info.Categories))
			for _, i := range train {
				if k := int(s.Features[i].Values[id]); k >= 0 && k < len(counts) && !s.Features[i].Missing[id] {
					counts[k]++
				}
			}
			mode := 0
			for k := range counts {
				if counts[k] > counts[mode] {
					mode = k
				}
			}
			for k := range counts {
				if k != mode && counts[k] > 0 {
					cols = append(cols, col{id: id, cat: k})
				}
			}
			continue
		}
		var sum, sum2, n float64
		anyMissing := false
		for _, i := range train {
			f := &s.Features[i]
			if f.Missing[id] {
				anyMissing = true
				continue
			}
			v := f.Values[id]
			sum, sum2, n = sum+v, sum2+v*v, n+1
		}
		c := col{id: id, cat: -1, std: 1}
		if n > 0 {
			c.mean = sum / n
			if v := sum2/n - c.mean*c.mean; v > 1e-12 {
				c.std = math.Sqrt(v)
			}
		}
		cols = append(cols, c)
		if anyMissing {
			cols = append(cols, col{id: id, cat: -1, missing: true})
		}
	}
	bl = &Baseline{cols: cols}
	design := func(rows []int) [][]float64 {
		x := make([][]float64, len(rows))
		for r, i := range rows {
			x[r] = make([]float64, len(cols))
			bl.row(&s.Features[i], x[r])
		}
		return x
	}
	xt := design(train)
	m, err := FitLogistic(xt, pick(s.Bad, train), l2)
	if err != nil {
		return nil, in, out, err
	}
	bl.model = m
	score := func(x [][]float64) []float64 {
		v := make([]float64, len(x))
		for r := range x {
			v[r] = -m.Eta(x[r])
		}
		return v
	}
	in = Discrimination(score(xt), pick(s.Bad, train))
	out = Discrimination(score(design(hold)), pick(s.Bad, hold))
	return bl, in, out, nil
}
