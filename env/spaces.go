package env

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Box is a space of real vectors with per-dimension bounds (use ±Inf for unbounded).
type Box struct {
	Low, High []float64
}

// Dim is the number of dimensions of the box.
func (b Box) Dim() int { return len(b.Low) }

// Validate reports a box whose bounds differ in length, are NaN, or have Low > High.
func (b Box) Validate() error {
	if len(b.Low) != len(b.High) {
		return fmt.Errorf("box: len(Low)=%d != len(High)=%d", len(b.Low), len(b.High))
	}
	for i := range b.Low {
		lo, hi := b.Low[i], b.High[i]
		if math.IsNaN(lo) || math.IsNaN(hi) {
			return fmt.Errorf("box: dimension %d: NaN bound", i)
		}
		if lo > hi {
			return fmt.Errorf("box: dimension %d: Low %g > High %g", i, lo, hi)
		}
	}
	return nil
}

// Contains reports whether x has the box's dimension and lies within its bounds
// (inclusive). NaN is never contained.
func (b Box) Contains(x []float64) bool {
	if len(x) != len(b.Low) {
		return false
	}
	for i, v := range x {
		if !(v >= b.Low[i] && v <= b.High[i]) {
			return false
		}
	}
	return true
}

// Sample draws a point of the box into a new slice, the way Gymnasium's Box.sample
// does: uniform on bounded dimensions, standard normal on dimensions unbounded on
// both sides, and a shifted unit exponential on dimensions bounded on one side.
func (b Box) Sample(rng *rand.Rand) []float64 {
	x := make([]float64, len(b.Low))
	for i := range x {
		lo, hi := b.Low[i], b.High[i]
		loInf, hiInf := math.IsInf(lo, -1), math.IsInf(hi, 1)
		switch {
		case loInf && hiInf:
			x[i] = rng.NormFloat64()
		case loInf:
			x[i] = hi - rng.ExpFloat64()
		case hiInf:
			x[i] = lo + rng.ExpFloat64()
		default:
			x[i] = lo + (hi-lo)*rng.Float64()
		}
	}
	return x
}

// Discrete is the space of integers {0, ..., N-1}.
type Discrete struct {
	N int
}

// Contains reports whether 0 <= a < N.
func (d Discrete) Contains(a int) bool { return a >= 0 && a < d.N }

// Sample draws an action uniformly; it returns -1 for an empty space (N <= 0).
func (d Discrete) Sample(rng *rand.Rand) int {
	if d.N <= 0 {
		return -1
	}
	return rng.IntN(d.N)
}
