package fit

import (
	"math"
	"slices"
)

// maxGroups bounds the score groups the cut-off search works on.
const maxGroups = 100

// cutOffs chooses the min_score of every grade but the last (grades best
// first) so that the bad rate rises strictly from grade to grade, every
// grade holds at least minShare of the accounts, the mean PD of every grade
// lies within the 95% Wilson interval of its bad rate (when some cut-offs
// allow it), and the grades' shares
// are as close as possible (least squares) to target. The search runs over
// at most maxGroups groups of whole scores (a score is never split), by
// dynamic programming over (grade, first group, end group). When no cut
// satisfies the constraints it returns quantile cuts of the target shares
// and false.
func cutOffs(score []int32, pd []float64, bad []bool, target []float64, minShare float64) ([]int32, bool) {
	K := len(target)
	if K < 2 {
		return nil, true
	}
	type grp struct {
		lo      int32 // lowest score in the group
		n, bads int
		pd      float64
	}
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return int(score[b]) - int(score[a]) })
	N := len(idx)
	var groups []grp
	per := max(1, N/maxGroups)
	for i := 0; i < N; {
		g := grp{}
		for i < N {
			g.n++
			g.pd += pd[idx[i]]
			if bad[idx[i]] {
				g.bads++
			}
			g.lo = score[idx[i]]
			i++
			if g.n >= per && (i == N || score[idx[i]] != score[idx[i-1]]) {
				break
			}
		}
		groups = append(groups, g)
	}
	m := len(groups)
	cn := make([]int, m+1)
	cb := make([]int, m+1)
	cp := make([]float64, m+1)
	for i, g := range groups {
		cn[i+1], cb[i+1], cp[i+1] = cn[i]+g.n, cb[i]+g.bads, cp[i]+g.pd
	}
	rate := func(s, e int) float64 { return float64(cb[e]-cb[s]) / float64(cn[e]-cn[s]) }
	share := func(s, e int) float64 { return float64(cn[e]-cn[s]) / float64(N) }
	minN := max(1, int(math.Ceil(minShare*float64(N))))
	calibrated := func(s, e int) bool {
		lo, hi := Wilson(cb[e]-cb[s], cn[e]-cn[s])
		mean := (cp[e] - cp[s]) / float64(cn[e]-cn[s])
		return mean >= lo && mean <= hi
	}
	needCal := true
	okSize := func(s, e int) bool {
		return e > s && cn[e]-cn[s] >= minN && (!needCal || calibrated(s, e))
	}

	inf := math.Inf(1)
	var cost [][][]float64
	var from [][][]int
	bestS := -1
	for _, cal := range []bool{true, false} {
		needCal = cal
		// cost[g][s][e]: grades 0..g placed, grade g on groups [s, e).
		cost = make([][][]float64, K)
		from = make([][][]int, K)
		for g := range cost {
			cost[g] = make([][]float64, m+1)
			from[g] = make([][]int, m+1)
			for s := range cost[g] {
				cost[g][s] = make([]float64, m+1)
				from[g][s] = make([]int, m+1)
				for e := range cost[g][s] {
					cost[g][s][e] = inf
				}
			}
		}
		sq := func(x float64) float64 { return x * x }
		for e := 1; e <= m; e++ {
			if okSize(0, e) {
				cost[0][0][e] = sq(share(0, e) - target[0])
			}
		}
		for g := 1; g < K; g++ {
			for s := 1; s < m; s++ {
				for e := s + 1; e <= m; e++ {
					if !okSize(s, e) || (g == K-1 && e != m) {
						continue
					}
					r, c := rate(s, e), sq(share(s, e)-target[g])
					for t := 0; t < s; t++ {
						prev := cost[g-1][t][s]
						if prev < inf && rate(t, s) < r && prev+c < cost[g][s][e] {
							cost[g][s][e], from[g][s][e] = prev+c, t
						}
					}
				}
			}
		}
		best := inf
		bestS = -1
		for s := 1; s < m; s++ {
			if cost[K-1][s][m] < best {
				bestS, best = s, cost[K-1][s][m]
			}
		}
		if bestS >= 0 {
			break
		}
	}
	cuts := make([]int32, K-1)
	if bestS < 0 {
		// No monotone grading: quantiles of the target shares.
		cum, g := 0.0, 0
		for i := 0; i < m && g < K-1; i++ {
			if float64(cn[i+1])/float64(N) >= cum+target[g] {
				cum += target[g]
				cuts[g] = groups[i].lo
				g++
			}
		}
		for ; g < K-1; g++ {
			cuts[g] = math.MinInt32 + int32(K)
		}
		for g := 1; g < K-1; g++ {
			cuts[g] = min(cuts[g], cuts[g-1]-1)
		}
		return cuts, false
	}
	s, e := bestS, m
	for g := K - 1; g > 0; g-- {
		t := from[g][s][e]
		cuts[g-1] = groups[s-1].lo // grade g−1 ends at group s−1
		s, e = t, s
	}
	return cuts, true
}
