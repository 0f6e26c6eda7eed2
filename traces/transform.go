package traces

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Transforms return a new trace and never modify their input.

// Clone returns a deep copy of t.
func (t *Trace) Clone() *Trace {
	c := *t
	c.Rates = append([]float64(nil), t.Rates...)
	if t.Arrivals != nil {
		c.Arrivals = append([]time.Duration(nil), t.Arrivals...)
	}
	return &c
}

// Total is the number of requests the trace describes: the sum of rate × bucket
// length, or len(Arrivals) when arrivals are given.
func (t *Trace) Total() float64 {
	if t.Arrivals != nil {
		return float64(len(t.Arrivals))
	}
	s := 0.0
	for _, r := range t.Rates {
		s += r
	}
	return s * t.Bucket.Seconds()
}

// Resample returns t on buckets of the given length, conserving request counts: each
// new bucket gets the requests of the old buckets it overlaps, shared in proportion
// to the overlap. When the duration is not a multiple of the new bucket, the end of
// the trace that fills no whole new bucket is dropped, with its arrivals: its rate
// over the rest of that bucket is not known, and neither zeros nor a guess stand in
// for it. A trace shorter than one new bucket is an error.
func Resample(t *Trace, bucket time.Duration) (*Trace, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if bucket <= 0 {
		return nil, fmt.Errorf("resample %q: bucket %v: must be > 0", t.Name, bucket)
	}
	d := t.Duration()
	n := d / bucket
	if n > DefaultMaxBuckets {
		return nil, fmt.Errorf("resample %q to %v: %d buckets: %w", t.Name, bucket, n, ErrTooLarge)
	}
	if n == 0 {
		return nil, fmt.Errorf("resample %q to %v: the trace is %v long, shorter than one bucket", t.Name, bucket, d)
	}
	out := t.Clone()
	out.Bucket = bucket
	out.Rates = make([]float64, n)
	if end := time.Duration(n) * bucket; t.Arrivals != nil && end < d {
		k, _ := slices.BinarySearch(out.Arrivals, end)
		out.Arrivals = out.Arrivals[:k]
	}
	ob := int64(t.Bucket)
	nb := int64(bucket)
	for i, r := range t.Rates {
		if r == 0 {
			continue
		}
		lo, hi := int64(i)*ob, int64(i+1)*ob
		for j := lo / nb; j*nb < hi && j < int64(n); j++ {
			a, b := max(lo, j*nb), min(hi, (j+1)*nb)
			out.Rates[j] += r * float64(b-a) // request-nanoseconds
		}
	}
	for j := range out.Rates {
		out.Rates[j] /= float64(nb)
	}
	return out, nil
}

// ScaleMean returns t with every rate multiplied so that the mean rate is mean
// requests per second, finite and in (0, MaxRate]. Arrivals are dropped: they no
// longer match the rates. A trace of all zeros cannot be scaled, and a target whose
// peak would exceed MaxRate is refused.
func ScaleMean(t *Trace, mean float64) (*Trace, error) {
	return scale(t, "mean", mean)
}

// ScalePeak returns t with every rate multiplied so that the largest rate is peak
// requests per second, finite and in (0, MaxRate]. Arrivals are dropped.
func ScalePeak(t *Trace, peak float64) (*Trace, error) {
	return scale(t, "peak", peak)
}

// scale rescales t's rates to the mean or peak want. The rates are first divided by
// their peak, so that tiny or huge rates neither underflow to zero nor overflow to
// Inf on the way (a mean of denormals is itself zero).
func scale(t *Trace, what string, want float64) (*Trace, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if !(want > 0 && want <= MaxRate) {
		return nil, fmt.Errorf("scale %q: %s %v: must be finite and in (0, %g] requests/s (traces.MaxRate)", t.Name, what, want, MaxRate)
	}
	peak := 0.0
	for _, r := range t.Rates {
		peak = max(peak, r)
	}
	if peak == 0 {
		return nil, fmt.Errorf("scale %q to %s %v: the trace is all zeros", t.Name, what, want)
	}
	f := want // multiplies rate/peak
	if what == "mean" {
		sum := 0.0
		for _, r := range t.Rates {
			sum += r / peak
		}
		f = want / (sum / float64(len(t.Rates))) // sum >= 1: no overflow
	}
	out := t.Clone()
	out.Arrivals = nil
	top := 0.0
	for i, r := range t.Rates {
		v := r / peak * f
		if what == "peak" && r == peak {
			v = want // exact despite rounding
		}
		out.Rates[i] = v
		top = max(top, v)
	}
	switch {
	case math.IsNaN(top) || math.IsInf(top, 0):
		return nil, fmt.Errorf("scale %q to %s %v: the rates overflow", t.Name, what, want)
	case top == 0:
		return nil, fmt.Errorf("scale %q to %s %v: every rate rounds to zero", t.Name, what, want)
	case top > MaxRate:
		return nil, fmt.Errorf("scale %q to %s %v: the peak would be %.4g requests/s, above the limit of %g (traces.MaxRate)", t.Name, what, want, top, MaxRate)
	}
	return out, nil
}

// Slice returns the part of t in [from, to), both offsets from the start of the trace
// and multiples of the bucket length. Start (when known) moves to from; arrivals are
// kept when inside and shifted.
func Slice(t *Trace, from, to time.Duration) (*Trace, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if from < 0 || to <= from || to > t.Duration() {
		return nil, fmt.Errorf("slice %q: [%v, %v): want 0 <= from < to <= %v", t.Name, from, to, t.Duration())
	}
	if from%t.Bucket != 0 || to%t.Bucket != 0 {
		return nil, fmt.Errorf("slice %q: [%v, %v): bounds must be multiples of the bucket %v", t.Name, from, to, t.Bucket)
	}
	out := &Trace{Name: t.Name, Bucket: t.Bucket, Start: t.Start}
	out.Rates = append([]float64(nil), t.Rates[from/t.Bucket:to/t.Bucket]...)
	if !t.Start.IsZero() {
		out.Start = t.Start.Add(from)
	}
	if t.Arrivals != nil {
		out.Arrivals = []time.Duration{}
		for _, a := range t.Arrivals {
			if a >= from && a < to {
				out.Arrivals = append(out.Arrivals, a-from)
			}
		}
	}
	return out, nil
}

// Window returns the length-long part of t beginning at start: an episode.
func Window(t *Trace, start, length time.Duration) (*Trace, error) {
	return Slice(t, start, start+length)
}

// Split cuts t by time into contiguous train, validation and test traces holding the
// given fractions of its buckets (each >= 0, summing to 1): round(f0·n) and round(f1·n)
// buckets, the test part the rest. Each part must get at least one bucket. The parts
// are named <name>-train, <name>-val and <name>-test.
func Split(t *Trace, fractions [3]float64) (train, val, test *Trace, err error) {
	if err := t.Validate(); err != nil {
		return nil, nil, nil, err
	}
	sum := 0.0
	for _, f := range fractions {
		if math.IsNaN(f) || f < 0 || f > 1 {
			return nil, nil, nil, fmt.Errorf("split %q: fractions %v: each must be in [0, 1]", t.Name, fractions)
		}
		sum += f
	}
	if math.Abs(sum-1) > 1e-9 {
		return nil, nil, nil, fmt.Errorf("split %q: fractions %v: sum %v, want 1", t.Name, fractions, sum)
	}
	n := len(t.Rates)
	a := int(math.Round(fractions[0] * float64(n)))
	b := a + int(math.Round(fractions[1]*float64(n)))
	if a < 1 || b-a < 1 || n-b < 1 {
		return nil, nil, nil, fmt.Errorf("split %q: fractions %v of %d buckets: every part needs at least one bucket", t.Name, fractions, n)
	}
	parts := [3]*Trace{}
	bounds := [4]int{0, a, b, n}
	for k, suffix := range []string{"-train", "-val", "-test"} {
		p, err := Slice(t, time.Duration(bounds[k])*t.Bucket, time.Duration(bounds[k+1])*t.Bucket)
		if err != nil {
			return nil, nil, nil, err
		}
		p.Name = t.Name + suffix
		parts[k] = p
	}
	return parts[0], parts[1], parts[2], nil
}
