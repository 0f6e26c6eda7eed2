package traces

import (
	"fmt"
	"math"
	"time"
)

// Sample is one value of a time series at a time: a point of a Prometheus range query.
type Sample struct {
	T time.Time
	V float64
}

// SamplesInfo says how FromSamples filled a trace.
type SamplesInfo struct {
	// Buckets is the number of buckets of the trace; Gaps of them had no sample and
	// are zero (as the file loaders fill the gaps between timestamps).
	Buckets, Gaps int
}

// FromSamples builds a trace of step-long buckets from start from the points of a
// request-rate range query (requests per second) evaluated at start+step,
// start+2*step, ... up to end. The point at start+(i+1)*step is the rate over the
// window ending there, so it becomes bucket i, [start+i*step, start+(i+1)*step); the
// points may come in any order. A bucket with no point (no series answered at that
// step: the target was down, the series stale) is a gap and holds 0. A point that is
// NaN, infinite, negative or above MaxRate, a second point at the same step, or one
// that falls off the step grid or outside (start, end], is an error naming its time.
// name is the trace's name and the source named in errors.
func FromSamples(name string, samples []Sample, start, end time.Time, step time.Duration) (*Trace, SamplesInfo, error) {
	var info SamplesInfo
	if step <= 0 {
		return nil, info, fmt.Errorf("%s: step %v: must be > 0", name, step)
	}
	if !end.After(start) {
		return nil, info, fmt.Errorf("%s: end %v: must be after start %v", name, end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	n := int(end.Sub(start) / step)
	if n < 1 {
		return nil, info, fmt.Errorf("%s: window %v is shorter than one step (%v)", name, end.Sub(start), step)
	}
	if n > DefaultMaxBuckets {
		return nil, info, fmt.Errorf("%s: %d buckets of %v: %w (at most %d)", name, n, step, ErrTooLarge, DefaultMaxBuckets)
	}
	if len(samples) == 0 {
		return nil, info, fmt.Errorf("%s: %w: the query answered no samples between %v and %v", name, ErrEmpty, start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	rates := make([]float64, n)
	seen := make([]bool, n)
	for _, s := range samples {
		off := s.T.Sub(start)
		k := int(off / step)
		if off%step != 0 || k < 1 || k > n {
			return nil, info, fmt.Errorf("%s: sample at %v: not on the step grid start+k*%v, 1 <= k <= %d", name, s.T.Format(time.RFC3339Nano), step, n)
		}
		if math.IsNaN(s.V) || math.IsInf(s.V, 0) || s.V < 0 {
			return nil, info, fmt.Errorf("%s: sample at %v: rate %v: must be finite and >= 0", name, s.T.Format(time.RFC3339), s.V)
		}
		if s.V > MaxRate {
			return nil, info, fmt.Errorf("%s: sample at %v: rate %.4g requests/s: above the limit of %g (traces.MaxRate)", name, s.T.Format(time.RFC3339), s.V, MaxRate)
		}
		if seen[k-1] {
			return nil, info, fmt.Errorf("%s: two samples at %v: want one series", name, s.T.Format(time.RFC3339))
		}
		seen[k-1] = true
		rates[k-1] = s.V
	}
	for _, ok := range seen {
		if !ok {
			info.Gaps++
		}
	}
	info.Buckets = n
	t := &Trace{Name: name, Bucket: step, Rates: rates, Start: start}
	return t, info, t.Validate()
}
