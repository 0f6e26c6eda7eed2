package calibrate

import (
	"math"
	"math/big"
	"testing"
)

// TestBinomialTail checks binomialTail against the plain sum of every binomial term
// in 256-bit floating point, on both sides of the mode and at the edges.
func TestBinomialTail(t *testing.T) {
	const prec = 256
	for _, m := range []int{0, 1, 2, 7, 40, 300, 2000} {
		for _, q := range []float64{0.001, 0.057, 1.0 / 3, 0.9} {
			// pmf[j] = C(m, j) q^j (1-q)^(m-j), from pmf[0] = (1-q)^m up.
			bq := new(big.Float).SetPrec(prec).SetFloat64(q)
			bp := new(big.Float).SetPrec(prec).Sub(big.NewFloat(1).SetPrec(prec), bq)
			pmf := make([]*big.Float, m+1)
			pmf[0] = big.NewFloat(1).SetPrec(prec)
			for range m {
				pmf[0].Mul(pmf[0], bp)
			}
			ratio := new(big.Float).SetPrec(prec).Quo(bq, bp)
			for j := 0; j < m; j++ {
				next := new(big.Float).SetPrec(prec).Mul(pmf[j], ratio)
				next.Mul(next, new(big.Float).SetPrec(prec).SetInt64(int64(m-j)))
				pmf[j+1] = next.Quo(next, new(big.Float).SetPrec(prec).SetInt64(int64(j+1)))
			}
			tail := new(big.Float).SetPrec(prec)
			for c := m + 1; c >= 0; c-- {
				if c <= m {
					tail.Add(tail, pmf[c])
				}
				want, _ := tail.Float64()
				got := binomialTail(float64(c), float64(m), q)
				if d := math.Abs(got - want); d > 1e-12 && d > 1e-9*want {
					t.Errorf("P(X >= %d), X ~ binomial(%d, %v): %.17g, want %.17g", c, m, q, got, want)
				}
			}
		}
	}
}
