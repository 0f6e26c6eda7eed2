// Package traces loads, synthesizes and transforms request traces: the traffic that
// drives the simulator. A trace is a request rate per fixed-length bucket, optionally
// with the exact arrival times it was built from.
package traces

import (
	"fmt"
	"math"
	"time"
)

// MaxRate is the largest rate a trace read or made from user input may hold: 1e6
// requests per second in any bucket, far beyond the services this project models,
// yet low enough that a typo or a corrupt file (a count of 1e300) cannot make a
// simulation run for years or a request count overflow. Every loader refuses a value
// above it, naming the line; so do synthesis (Synthesize) and rescaling (ScaleMean,
// ScalePeak). Validate does not: a trace built in Go, or one an environment scales
// by its rate_scale, may go beyond it.
const MaxRate = 1e6

// Trace is a request-rate series: Rates[i] is the mean arrival rate, in requests per
// second, over [i*Bucket, (i+1)*Bucket) measured from the start of the trace.
type Trace struct {
	// Name identifies the trace in run names and reports (for example "nasa-1995").
	Name string
	// Bucket is the length of one rate bucket; it must be positive.
	Bucket time.Duration
	// Rates holds one arrival rate per bucket, requests per second, each finite and
	// >= 0 (and at most MaxRate when loaded, synthesized or rescaled).
	Rates []float64
	// Arrivals, when non-nil, holds exact request times as offsets from the start of
	// the trace, sorted ascending and all below Duration(). The simulator then replays
	// these instead of drawing Poisson arrivals from Rates.
	Arrivals []time.Duration
	// Start is the wall-clock time of the first bucket; zero when unknown (synthesized
	// or index-based traces), in which case the trace is taken to start at midnight.
	Start time.Time

	// missing are the buckets a CSV file had no row for, read as zero requests, as
	// loaded; Source's shaping tells of those in its window and drops them.
	missing *missingRows
}

// missingRows are the runs of buckets a file had no row for.
type missingRows struct {
	file   string
	bucket time.Duration
	runs   []missingRun
}

// missingRun is one run of buckets without a row: from bucket from, n of them,
// the row after them at line.
type missingRun struct {
	from, n int64
	line    int
}

// within returns how many buckets of the runs lie in [from, to) (offsets), the
// longest run's part there and the line after that run.
func (m *missingRows) within(from, to time.Duration) (count, longest int64, line int) {
	for _, r := range m.runs {
		a := max(time.Duration(r.from)*m.bucket, from)
		b := min(time.Duration(r.from+r.n)*m.bucket, to)
		if b <= a {
			continue
		}
		k := int64((b - a + m.bucket - 1) / m.bucket)
		count += k
		if k > longest {
			longest, line = k, r.line
		}
	}
	return count, longest, line
}

// Duration is the length of the trace.
func (t *Trace) Duration() time.Duration { return time.Duration(len(t.Rates)) * t.Bucket }

// RateAt returns the arrival rate in force at offset d, or 0 outside the trace.
func (t *Trace) RateAt(d time.Duration) float64 {
	if d < 0 || t.Bucket <= 0 {
		return 0
	}
	i := int(d / t.Bucket)
	if i >= len(t.Rates) {
		return 0
	}
	return t.Rates[i]
}

// Validate reports the first reason the trace cannot drive a simulation.
func (t *Trace) Validate() error {
	if t.Bucket <= 0 {
		return fmt.Errorf("trace %q: bucket length %v: must be > 0", t.Name, t.Bucket)
	}
	if len(t.Rates) == 0 {
		return fmt.Errorf("trace %q: no buckets", t.Name)
	}
	for i, r := range t.Rates {
		if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
			return fmt.Errorf("trace %q: bucket %d: rate %v: must be finite and >= 0", t.Name, i, r)
		}
	}
	end := t.Duration()
	for i, a := range t.Arrivals {
		if a < 0 || a >= end {
			return fmt.Errorf("trace %q: arrival %d at %v: outside [0, %v)", t.Name, i, a, end)
		}
		if i > 0 && a < t.Arrivals[i-1] {
			return fmt.Errorf("trace %q: arrival %d at %v: before arrival %d at %v", t.Name, i, a, i-1, t.Arrivals[i-1])
		}
	}
	return nil
}

// checkMaxRate reports the first bucket of t above MaxRate.
func (t *Trace) checkMaxRate() error {
	for i, r := range t.Rates {
		if r > MaxRate {
			return fmt.Errorf("trace %q: bucket %d: rate %.4g requests/s: above the limit of %g (traces.MaxRate)", t.Name, i, r, MaxRate)
		}
	}
	return nil
}
