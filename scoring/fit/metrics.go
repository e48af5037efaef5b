package fit

import (
	"math"
	"slices"
)

// Metrics measure how well a score ranks bads below goods.
type Metrics struct {
	Accounts int `json:"accounts"`
	Bads     int `json:"bads"`
	// AUC is P(a good scores above a bad), ties counting half.
	AUC float64 `json:"auc"`
	// Gini is 2·AUC − 1.
	Gini float64 `json:"gini"`
	// KS is the largest gap between the cumulative score distributions of
	// bads and goods.
	KS float64 `json:"ks"`
}

// Discrimination returns the metrics of score (higher is better) against
// bad. With no bad or no good, AUC is 0.5 and KS 0.
func Discrimination(score []float64, bad []bool) Metrics {
	m := Metrics{Accounts: len(score)}
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
		if bad[i] {
			m.Bads++
		}
	}
	goods := m.Accounts - m.Bads
	if m.Bads == 0 || goods == 0 {
		m.AUC = 0.5
		return m
	}
	slices.SortFunc(idx, func(a, b int) int { return cmpFloat(score[a], score[b]) })
	// Walk the scores from the lowest up, a group of equal scores at a time:
	// each bad of the group is below every good above the group, and ties
	// with the group's goods half.
	var goodsBelow, badsBelow, pairs float64
	G, B := float64(goods), float64(m.Bads)
	for i := 0; i < len(idx); {
		j := i
		var g, b float64
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			if bad[idx[j]] {
				b++
			} else {
				g++
			}
			j++
		}
		pairs += b * (G - goodsBelow - g + 0.5*g)
		goodsBelow += g
		badsBelow += b
		m.KS = max(m.KS, math.Abs(badsBelow/B-goodsBelow/G))
		i = j
	}
	m.AUC = pairs / (G * B)
	m.Gini = 2*m.AUC - 1
	return m
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Wilson returns the 95% Wilson score interval of a proportion k/n; with
// n = 0 it is [0, 1].
func Wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	d := 1 + z*z/nf
	c := (p + z*z/(2*nf)) / d
	h := z / d * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return max(0, c-h), min(1, c+h)
}

// GradeRow is one grade's outcome: accounts, bads, the bad rate with its 95%
// Wilson interval, and the mean PD the scaling gives the grade's scores.
type GradeRow struct {
	Grade    string  `json:"grade"`
	MinScore *int32  `json:"min_score,omitempty"` // nil for the last grade
	Accounts int     `json:"accounts"`
	Bads     int     `json:"bads"`
	Rate     float64 `json:"bad_rate"`
	Lo       float64 `json:"bad_rate_lo"`
	Hi       float64 `json:"bad_rate_hi"`
	MeanPD   float64 `json:"mean_pd"`
	// Calibrated: MeanPD lies within [Lo, Hi].
	Calibrated bool `json:"calibrated"`
}

// gradeTable counts each grade's accounts and bads; grade[i] indexes names.
func gradeTable(names []string, minScores []int32, grade []int, pd []float64, bad []bool) []GradeRow {
	rows := make([]GradeRow, len(names))
	sumPD := make([]float64, len(names))
	for i, g := range grade {
		rows[g].Accounts++
		if bad[i] {
			rows[g].Bads++
		}
		sumPD[g] += pd[i]
	}
	for g := range rows {
		r := &rows[g]
		r.Grade = names[g]
		if g < len(names)-1 && g < len(minScores) {
			v := minScores[g]
			r.MinScore = &v
		}
		r.Lo, r.Hi = Wilson(r.Bads, r.Accounts)
		if r.Accounts > 0 {
			r.Rate = float64(r.Bads) / float64(r.Accounts)
			r.MeanPD = sumPD[g] / float64(r.Accounts)
		}
		r.Calibrated = r.Accounts > 0 && r.MeanPD >= r.Lo && r.MeanPD <= r.Hi
	}
	return rows
}

// Monotone reports whether the bad rate rises strictly from each grade to
// the next (grades best first); empty grades break it.
func Monotone(rows []GradeRow) bool {
	for i := range rows {
		if rows[i].Accounts == 0 || (i > 0 && rows[i].Rate <= rows[i-1].Rate) {
			return false
		}
	}
	return true
}
