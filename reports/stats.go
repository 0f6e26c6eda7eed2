// Package reports turns an experiment's results directory into figures: statistics
// over seeds with confidence intervals, the headline comparison of the winning learned
// policy against the baselines, terminal and Markdown tables and gonum plots.
package reports

import (
	"math"
)

// Stat is a mean over seeds with the half-width of its 95% confidence interval
// (Student t with n-1 degrees of freedom). CI is NaN when N < 2; Mean is NaN when
// N == 0.
type Stat struct {
	Mean, CI float64
	N        int
}

// Low and High are the ends of the interval.
func (s Stat) Low() float64  { return s.Mean - s.CI }
func (s Stat) High() float64 { return s.Mean + s.CI }

// tCrit975 holds the 0.975 quantile of Student's t for 1..30 degrees of freedom.
var tCrit975 = [...]float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

// TCritical returns the two-sided 95% critical value of Student's t with df degrees
// of freedom (table up to 30, then the normal approximation with a 1/df correction).
func TCritical(df int) float64 {
	switch {
	case df < 1:
		return math.NaN()
	case df <= len(tCrit975):
		return tCrit975[df-1]
	default:
		// Cornish-Fisher expansion: z + (z^3+z)/(4 df).
		z := 1.959964
		return z + (z*z*z+z)/(4*float64(df))
	}
}

// MeanCI returns the mean of the finite values of xs and its 95% confidence interval.
func MeanCI(xs []float64) Stat {
	var n int
	var sum float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			n++
			sum += x
		}
	}
	if n == 0 {
		return Stat{Mean: math.NaN(), CI: math.NaN()}
	}
	mean := sum / float64(n)
	if n == 1 {
		return Stat{Mean: mean, CI: math.NaN(), N: 1}
	}
	var ss float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			ss += (x - mean) * (x - mean)
		}
	}
	sd := math.Sqrt(ss / float64(n-1))
	return Stat{Mean: mean, CI: TCritical(n-1) * sd / math.Sqrt(float64(n)), N: n}
}

// meanFinite is the mean of the finite values of xs, NaN when none.
func meanFinite(xs []float64) float64 {
	var n int
	var s float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			n++
			s += x
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
