package scoring

import (
	"math"
	"slices"
	"strings"
)

// ScoreName names the score's distribution; the characteristics'
// distributions are named after them.
const ScoreName = "score"

// PSIWarn is the PSI above which a distribution has shifted enough to flag.
const PSIWarn = 0.25

// psiFloor replaces an empty bin's share, so that PSI stays finite.
const psiFloor = 1e-4

// MissingBin labels the missing bin in a distribution.
const MissingBin = "missing"

// Distribution counts scored accounts over bins: the score over the
// monitoring score bands, and each characteristic over its scorecard bins.
// Names[i] has the bins Bins[i] and the counts Counts[i]. Distributions of
// the same config merge by position; others merge by name and bin label.
type Distribution struct {
	Names  []string
	Bins   [][]string
	Counts [][]int64

	cfg *Config // for Add
}

// DistributionRow is one bin of a distribution, as the state and the
// monitoring baseline keep it.
type DistributionRow struct {
	Name  string `parquet:"name"`
	Bin   string `parquet:"bin"`
	Count int64  `parquet:"count"`
}

// PSIResult is the population stability index of one distribution against
// its baseline: Σ (a − e) · ln(a / e) over bins, a and e the shares of the
// actual and the baseline counts (an empty bin counts as a share of 0.0001).
// NoBaseline marks a distribution the baseline lacks (or an empty one); its
// PSI is 0.
type PSIResult struct {
	Name       string  `json:"name"`
	PSI        float64 `json:"psi"`
	Warn       bool    `json:"warn"`
	NoBaseline bool    `json:"no_baseline,omitempty"`
}

// NewDistribution returns an empty distribution over c's bins.
func (c *Config) NewDistribution() *Distribution {
	cc := c.mustCompiled()
	d := &Distribution{Names: c.distNames(), Bins: cc.labels, cfg: c}
	d.Counts = make([][]int64, len(d.Names))
	for i := range d.Counts {
		d.Counts[i] = make([]int64, len(d.Bins[i]))
	}
	return d
}

// Add counts one scored account: its features f and r, their score (the
// bins Score kept in r are counted; a Result made otherwise has f binned).
// It does not allocate.
func (d *Distribution) Add(f *Features, r *Result) {
	c := d.cfg
	if c == nil {
		panic("scoring: Add on a Distribution not made by NewDistribution")
	}
	bands := c.Monitoring.ScoreBands
	b, _ := slices.BinarySearch(bands, r.Score)
	if b < len(bands) && bands[b] == r.Score {
		b++ // an edge starts its band
	}
	d.Counts[0][b]++
	if cc := c.cc; cc != nil && r.binnedBy == cc.binsPrint && r.binnedBy != 0 {
		for i := range cc.chars {
			d.Counts[i+1][r.bins[i]]++
		}
		return
	}
	for i := range c.cc.chars {
		d.Counts[i+1][c.cc.chars[i].bin(f)]++
	}
}

// Merge adds o's counts to d.
func (d *Distribution) Merge(o *Distribution) {
	if sameShape(d, o) {
		for i := range o.Counts {
			for j, n := range o.Counts[i] {
				d.Counts[i][j] += n
			}
		}
		return
	}
	for i, name := range o.Names {
		for j, bin := range o.Bins[i] {
			d.add(name, bin, o.Counts[i][j])
		}
	}
}

func sameShape(d, o *Distribution) bool {
	if !slices.Equal(d.Names, o.Names) {
		return false
	}
	for i := range d.Bins {
		if !slices.Equal(d.Bins[i], o.Bins[i]) {
			return false
		}
	}
	return true
}

// add adds n to the named bin, creating it if needed.
func (d *Distribution) add(name, bin string, n int64) {
	i := slices.Index(d.Names, name)
	if i < 0 {
		i = len(d.Names)
		d.Names = append(d.Names, name)
		d.Bins = append(d.Bins, nil)
		d.Counts = append(d.Counts, nil)
	}
	j := slices.Index(d.Bins[i], bin)
	if j < 0 {
		j = len(d.Bins[i])
		d.Bins[i] = append(slices.Clip(d.Bins[i]), bin)
		d.Counts[i] = append(d.Counts[i], 0)
	}
	d.Counts[i][j] += n
}

// Rows returns the distribution as rows, in order.
func (d *Distribution) Rows() []DistributionRow {
	var rows []DistributionRow
	for i, name := range d.Names {
		for j, bin := range d.Bins[i] {
			rows = append(rows, DistributionRow{Name: name, Bin: bin, Count: d.Counts[i][j]})
		}
	}
	return rows
}

// DistributionFromRows rebuilds a distribution from its rows (for a
// baseline: it cannot Add).
func DistributionFromRows(rows []DistributionRow) *Distribution {
	d := &Distribution{}
	for _, r := range rows {
		d.add(r.Name, r.Bin, r.Count)
	}
	return d
}

// Total returns the number of accounts counted in the named distribution.
func (d *Distribution) Total(name string) int64 {
	i := slices.Index(d.Names, name)
	if i < 0 {
		return 0
	}
	var t int64
	for _, n := range d.Counts[i] {
		t += n
	}
	return t
}

// PSI returns the PSI of each of actual's distributions against baseline,
// warning above PSIWarn.
func PSI(actual, baseline *Distribution) []PSIResult { return psi(actual, baseline, PSIWarn) }

// PSI is the package's PSI with the policy's warning threshold.
func (c *Config) PSI(actual, baseline *Distribution) []PSIResult {
	return psi(actual, baseline, c.Monitoring.PSIWarn)
}

func psi(actual, baseline *Distribution, warn float64) []PSIResult {
	out := make([]PSIResult, 0, len(actual.Names))
	for i, name := range actual.Names {
		res := PSIResult{Name: name}
		k := -1
		if baseline != nil {
			k = slices.Index(baseline.Names, name)
		}
		at := actual.Total(name)
		var et int64
		if k >= 0 {
			et = baseline.Total(name)
		}
		if at == 0 || et == 0 {
			res.NoBaseline = true
			out = append(out, res)
			continue
		}
		share := func(n, total int64) float64 { return max(float64(n)/float64(total), psiFloor) }
		seen := make([]bool, len(baseline.Bins[k]))
		for j, bin := range actual.Bins[i] {
			var e int64
			if b := slices.Index(baseline.Bins[k], bin); b >= 0 {
				e, seen[b] = baseline.Counts[k][b], true
			}
			av, ev := share(actual.Counts[i][j], at), share(e, et)
			res.PSI += (av - ev) * math.Log(av/ev)
		}
		for b, bin := range baseline.Bins[k] {
			if !seen[b] && !slices.Contains(actual.Bins[i], bin) {
				av, ev := psiFloor, share(baseline.Counts[k][b], et)
				res.PSI += (av - ev) * math.Log(av/ev)
			}
		}
		res.Warn = res.PSI > warn
		out = append(out, res)
	}
	return out
}

// distNames returns the names of c's distributions: the score, then each
// characteristic.
func (c *Config) distNames() []string {
	names := []string{ScoreName}
	for _, ch := range c.Scorecard.Characteristics {
		names = append(names, ch.Name)
	}
	return names
}

// labels returns the bin labels of each distribution.
func (c *Config) labels() [][]string {
	bands := c.Monitoring.ScoreBands
	score := make([]string, 0, len(bands)+1)
	lo := math.Inf(-1)
	for _, e := range bands {
		score = append(score, RangeLabel(lo, float64(e)))
		lo = float64(e)
	}
	score = append(score, RangeLabel(lo, math.Inf(1)))
	out := [][]string{score}
	for _, ch := range c.Scorecard.Characteristics {
		l := make([]string, len(ch.Bins))
		for j, b := range ch.Bins {
			switch {
			case b.Missing:
				l[j] = MissingBin
			case len(b.Categories) > 0:
				l[j] = "{" + strings.Join(b.Categories, ", ") + "}"
			default:
				l[j] = RangeLabel(b.From, b.To)
			}
		}
		out = append(out, l)
	}
	return out
}

// RangeLabel labels the bin [lo, hi) as the distribution and the fit
// report show it.
func RangeLabel(lo, hi float64) string { return "[" + FormatEdge(lo) + ", " + FormatEdge(hi) + ")" }

// BaselineDistribution returns the policy's fixed baseline, or nil when the
// policy has none (the previous run's distribution serves then).
func (c *Config) BaselineDistribution() *Distribution {
	if len(c.Monitoring.Baseline) == 0 {
		return nil
	}
	return DistributionFromRows(c.Monitoring.Baseline)
}
