package fit

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Logistic is a fitted logistic regression of P(bad):
// logit P = Intercept + Σ Coef[j]·x[j].
type Logistic struct {
	Intercept float64
	Coef      []float64
	// Iterations the Newton steps took to converge.
	Iterations int
}

// Eta returns the linear predictor (the log-odds of bad) of x.
func (m *Logistic) Eta(x []float64) float64 {
	eta := m.Intercept
	for j, c := range m.Coef {
		eta += c * x[j]
	}
	return eta
}

// FitLogistic fits a logistic regression of bad on the columns of x (x[i]
// is row i) by Newton's method (iteratively reweighted least squares),
// maximising the log-likelihood minus l2/2 · Σ Coef² (the intercept is
// not penalised). The penalty keeps the fit finite when a column separates
// bads from goods and keeps a constant column's coefficient at 0; with
// l2 > 0 the Hessian is positive definite and every step is defined.
func FitLogistic(x [][]float64, bad []bool, l2 float64) (*Logistic, error) {
	n := len(x)
	if n == 0 || n != len(bad) {
		return nil, fmt.Errorf("%w: %d rows, %d outcomes", ErrNoData, n, len(bad))
	}
	p := len(x[0]) + 1 // with the intercept, column 0
	var nBad float64
	for _, b := range bad {
		if b {
			nBad++
		}
	}
	if nBad == 0 || nBad == float64(n) {
		return nil, fmt.Errorf("%w: %v bads in %d rows", ErrNoData, nBad, n)
	}
	beta := make([]float64, p)
	beta[0] = math.Log(nBad / (float64(n) - nBad))
	row := make([]float64, p)
	// objective is the penalised log-likelihood at b.
	objective := func(b []float64) float64 {
		ll := 0.0
		for i := range n {
			eta := b[0]
			for j, v := range x[i] {
				eta += b[j+1] * v
			}
			if bad[i] {
				ll += logSigmoid(eta)
			} else {
				ll += logSigmoid(-eta)
			}
		}
		for j := 1; j < p; j++ {
			ll -= l2 / 2 * b[j] * b[j]
		}
		return ll
	}
	h := mat.NewSymDense(p, nil)
	g := mat.NewVecDense(p, nil)
	step := mat.NewVecDense(p, nil)
	trial := make([]float64, p)
	var chol mat.Cholesky
	ll := objective(beta)
	const maxIter = 100
	for it := 1; it <= maxIter; it++ {
		h.Zero()
		g.Zero()
		hd := h.RawSymmetric().Data
		gd := g.RawVector().Data
		for i := range n {
			row[0] = 1
			copy(row[1:], x[i])
			eta := 0.0
			for j, v := range row {
				eta += beta[j] * v
			}
			mu := sigmoid(eta)
			r := -mu
			if bad[i] {
				r = 1 - mu
			}
			w := max(mu*(1-mu), 1e-12)
			for j, vj := range row {
				if vj == 0 {
					continue
				}
				gd[j] += r * vj
				wv := w * vj
				base := j * p
				for k := j; k < p; k++ {
					hd[base+k] += wv * row[k]
				}
			}
		}
		for j := 1; j < p; j++ {
			gd[j] -= l2 * beta[j]
			hd[j*p+j] += l2
		}
		if ok := chol.Factorize(h); !ok {
			return nil, fmt.Errorf("fit logistic regression: the information matrix is not positive definite")
		}
		if err := chol.SolveVecTo(step, g); err != nil {
			var c mat.Condition
			if !errors.As(err, &c) {
				return nil, fmt.Errorf("fit logistic regression: %w", err)
			}
		}
		// Newton's step, halved until the objective does not fall.
		t, next := 1.0, ll
		for range 40 {
			for j := range beta {
				trial[j] = beta[j] + t*step.AtVec(j)
			}
			if next = objective(trial); next >= ll-1e-12*math.Abs(ll) {
				break
			}
			t /= 2
		}
		maxStep := 0.0
		for j := range beta {
			maxStep = max(maxStep, math.Abs(trial[j]-beta[j]))
		}
		copy(beta, trial)
		gain := next - ll
		ll = next
		if maxStep < 1e-9 || gain < 1e-10*math.Abs(ll) {
			return &Logistic{Intercept: beta[0], Coef: slices.Clone(beta[1:]), Iterations: it}, nil
		}
	}
	return &Logistic{Intercept: beta[0], Coef: slices.Clone(beta[1:]), Iterations: maxIter}, nil
}

func sigmoid(eta float64) float64 {
	if eta >= 0 {
		return 1 / (1 + math.Exp(-eta))
	}
	e := math.Exp(eta)
	return e / (1 + e)
}

// logSigmoid returns ln σ(eta) without overflow.
func logSigmoid(eta float64) float64 {
	if eta >= 0 {
		return -math.Log1p(math.Exp(-eta))
	}
	return eta - math.Log1p(math.Exp(eta))
}
