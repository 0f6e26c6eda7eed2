package sim

import (
	"math"
)

// Latency histogram layout: log-linear buckets in the style of HdrHistogram. Each
// power of two from 2^histMinExp seconds (about 1 µs) to 2^histMaxExp seconds (about
// 4.5 h) is split into 2^histSubBits equal sub-buckets, so a bucket spans at most
// 1/128 of its lower bound and the midpoint estimate is within 0.4% of any value in it.
const (
	histSubBits = 7
	histSub     = 1 << histSubBits
	histMinExp  = -20
	histMaxExp  = 14
	histBuckets = (histMaxExp - histMinExp) * histSub
)

// LatencyHistogram is a fixed-size log-bucketed histogram of response times in
// seconds: constant memory whatever the number of observations, quantiles within 0.4%
// relative error (exact at the extremes: results are clamped to the observed minimum
// and maximum). Values below 2^-20 s fall in the first bucket, values above 2^14 s in
// the last. The zero value is an empty histogram.
type LatencyHistogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      float64
	min, max float64
	lo, hi   int // range of non-empty buckets, valid when n > 0
}

func histIndex(x float64) int {
	if !(x > 0) {
		return 0
	}
	b := math.Float64bits(x)
	exp := int(b>>52&0x7ff) - 1023
	if exp < histMinExp {
		return 0
	}
	if exp >= histMaxExp {
		return histBuckets - 1
	}
	return (exp-histMinExp)<<histSubBits | int(b>>(52-histSubBits)&(histSub-1))
}

// histLower is the lower bound of bucket i in seconds.
func histLower(i int) float64 {
	return math.Ldexp(1+float64(i&(histSub-1))/histSub, i>>histSubBits+histMinExp)
}

// Observe adds one response time, in seconds.
func (h *LatencyHistogram) Observe(seconds float64) {
	i := histIndex(seconds)
	h.counts[i]++
	if h.n == 0 {
		h.lo, h.hi, h.min, h.max = i, i, seconds, seconds
	} else {
		h.lo, h.hi = min(h.lo, i), max(h.hi, i)
		h.min, h.max = min(h.min, seconds), max(h.max, seconds)
	}
	h.n++
	h.sum += seconds
}

// Reset empties h, touching only the buckets in use.
func (h *LatencyHistogram) Reset() {
	if h.n > 0 {
		clear(h.counts[h.lo : h.hi+1])
	}
	h.n, h.sum, h.min, h.max, h.lo, h.hi = 0, 0, 0, 0, 0, 0
}

// Merge adds the observations of o to h.
func (h *LatencyHistogram) Merge(o *LatencyHistogram) {
	if o.n == 0 {
		return
	}
	for i := o.lo; i <= o.hi; i++ {
		h.counts[i] += o.counts[i]
	}
	if h.n == 0 {
		h.lo, h.hi, h.min, h.max = o.lo, o.hi, o.min, o.max
	} else {
		h.lo, h.hi = min(h.lo, o.lo), max(h.hi, o.hi)
		h.min, h.max = min(h.min, o.min), max(h.max, o.max)
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of observations.
func (h *LatencyHistogram) Count() uint64 { return h.n }

// Mean is the exact mean of the observations in seconds; NaN when empty.
func (h *LatencyHistogram) Mean() float64 {
	if h.n == 0 {
		return math.NaN()
	}
	return h.sum / float64(h.n)
}

// Quantile returns the q-quantile (0 <= q <= 1) in seconds by the nearest-rank rule
// (the value of rank ceil(q*n)), estimated by the middle of its bucket and clamped to
// the observed range; ranks 1 and n give the exact minimum and maximum. NaN when empty.
func (h *LatencyHistogram) Quantile(q float64) float64 {
	var out [1]float64
	h.quantiles([]float64{q}, out[:])
	return out[0]
}

// quantiles fills out[j] with the qs[j]-quantile; qs must be ascending.
func (h *LatencyHistogram) quantiles(qs []float64, out []float64) {
	if h.n == 0 {
		for j := range out {
			out[j] = math.NaN()
		}
		return
	}
	var cum uint64
	j := 0
	for i := h.lo; i <= h.hi && j < len(qs); i++ {
		cum += h.counts[i]
		for j < len(qs) && cum >= rankOf(qs[j], h.n) {
			switch rank := rankOf(qs[j], h.n); rank {
			case 1:
				out[j] = h.min
			case h.n:
				out[j] = h.max
			default:
				mid := (histLower(i) + histLower(i+1)) / 2
				out[j] = min(max(mid, h.min), h.max)
			}
			j++
		}
	}
	for ; j < len(qs); j++ {
		out[j] = h.max
	}
}

func rankOf(q float64, n uint64) uint64 {
	r := uint64(math.Ceil(q * float64(n)))
	return min(max(r, 1), n)
}

// CDF returns, for each non-empty bucket in ascending order, its upper bound x[i]
// in seconds (clamped to the observed maximum) and the fraction p[i] of
// observations no slower than the bucket: points of the empirical CDF for plots.
func (h *LatencyHistogram) CDF() (x, p []float64) {
	if h.n == 0 {
		return nil, nil
	}
	var cum uint64
	for i := h.lo; i <= h.hi; i++ {
		if h.counts[i] == 0 {
			continue
		}
		cum += h.counts[i]
		x = append(x, min(histLower(i+1), h.max))
		p = append(p, float64(cum)/float64(h.n))
	}
	return x, p
}
