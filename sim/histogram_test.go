package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHistogramQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var h LatencyHistogram
	xs := make([]float64, 100000)
	for i := range xs {
		xs[i] = math.Exp(r.NormFloat64()*2 - 3) // spans microseconds to minutes
		h.Observe(xs[i])
	}
	slices.Sort(xs)
	for _, q := range []float64{0, 0.001, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
		rank := max(int(math.Ceil(q*float64(len(xs)))), 1)
		want := xs[rank-1]
		if got := h.Quantile(q); math.Abs(got-want)/want > 0.004 {
			t.Errorf("q=%v: %v, exact %v: relative error %.4f", q, got, want, math.Abs(got-want)/want)
		}
	}
	if h.Quantile(0) != xs[0] || h.Quantile(1) != xs[len(xs)-1] {
		t.Errorf("extremes %v %v, want %v %v", h.Quantile(0), h.Quantile(1), xs[0], xs[len(xs)-1])
	}
	x, p := h.CDF()
	if !slices.IsSorted(x) || !slices.IsSorted(p) || p[len(p)-1] != 1 || x[len(x)-1] != xs[len(xs)-1] {
		t.Errorf("CDF not monotone or does not end at (max, 1)")
	}
	// Check a CDF point against the exact fraction.
	i := len(x) / 2
	exact := float64(sort(xs, x[i])) / float64(len(xs))
	if math.Abs(exact-p[i]) > 0.002 {
		t.Errorf("CDF(%v) = %v, exact %v", x[i], p[i], exact)
	}
}

// sort returns how many of the sorted xs are <= v.
func sort(xs []float64, v float64) int {
	n, _ := slices.BinarySearch(xs, math.Nextafter(v, math.Inf(1)))
	return n
}

func TestHistogramResetMerge(t *testing.T) {
	var a, b, all LatencyHistogram
	for i := range 1000 {
		x := float64(i+1) * 1e-3
		all.Observe(x)
		if i%3 == 0 {
			a.Observe(x)
		} else {
			b.Observe(x)
		}
	}
	a.Merge(&b)
	if math.Abs(a.sum-all.sum) > 1e-9 {
		t.Errorf("merged sum %v, want %v", a.sum, all.sum)
	}
	a.sum = all.sum
	if a != all {
		t.Errorf("merge differs from observing everything")
	}
	a.Reset()
	if a != (LatencyHistogram{}) || !math.IsNaN(a.Quantile(0.5)) || !math.IsNaN(a.Mean()) {
		t.Errorf("reset histogram not empty")
	}
	var c LatencyHistogram
	c.Observe(0.25)
	c.Observe(0.25)
	if c.Quantile(0.5) != 0.25 || c.Mean() != 0.25 {
		t.Errorf("constant: quantile %v mean %v", c.Quantile(0.5), c.Mean())
	}
	c.Observe(0)
	c.Observe(1e9)
	if c.Quantile(0) != 0 || c.Quantile(1) != 1e9 || c.Count() != 4 {
		t.Errorf("out-of-range values: %v %v %d", c.Quantile(0), c.Quantile(1), c.Count())
	}
}
