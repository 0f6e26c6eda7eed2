package traces

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Stats summarises a trace (what `intelliscale trace info` prints).
type Stats struct {
	Name     string
	Buckets  int
	Bucket   time.Duration
	Duration time.Duration
	Start    time.Time // zero when unknown
	Mean     float64   // mean rate, requests per second
	Min      float64   // smallest bucket rate, requests per second
	Peak     float64   // largest bucket rate, requests per second
	P50      float64   // median bucket rate (nearest rank), requests per second
	P95      float64   // 95th percentile bucket rate (nearest rank), requests per second
	Total    float64   // requests: sum of rate × bucket length
	Zero     int       // buckets with rate 0
	Arrivals int       // len(Arrivals)
	// LongestZero is the longest run of buckets with rate 0, and LongestZeroAt its
	// offset from the start: a file loader fills a gap between rows with zeros,
	// so a long run is often an outage or missing data rather than idle time.
	LongestZero, LongestZeroAt time.Duration
}

// SuspectZeroRun is how long a run of zero buckets must be to be suspected of
// being missing data or an outage rather than idle time: half an hour without a
// request is more often a gap between rows.
const SuspectZeroRun = 30 * time.Minute

// ZeroRunWarning is a sentence about s's longest run of zero buckets when it is
// SuspectZeroRun or longer, "" otherwise.
func (s Stats) ZeroRunWarning() string {
	if s.LongestZero < SuspectZeroRun {
		return ""
	}
	return fmt.Sprintf("%s has no request for %v from %v in (%d zero buckets in all): missing data or an outage? Buckets between two rows are read as no traffic", s.Name, s.LongestZero, s.LongestZeroAt, s.Zero)
}

// Info computes the statistics of t.
func Info(t *Trace) (Stats, error) {
	if err := t.Validate(); err != nil {
		return Stats{}, err
	}
	s := Stats{Name: t.Name, Buckets: len(t.Rates), Bucket: t.Bucket, Duration: t.Duration(), Start: t.Start, Arrivals: len(t.Arrivals)}
	run, longest, at := 0, 0, 0
	for i, r := range t.Rates {
		if r != 0 {
			run = 0
			continue
		}
		if run++; run > longest {
			longest, at = run, i+1-run
		}
	}
	s.LongestZero, s.LongestZeroAt = time.Duration(longest)*t.Bucket, time.Duration(at)*t.Bucket
	sorted := slices.Clone(t.Rates)
	slices.Sort(sorted)
	sum := 0.0
	for _, r := range sorted {
		sum += r
		if r == 0 {
			s.Zero++
		}
	}
	s.Mean = sum / float64(len(sorted))
	s.Min, s.Peak = sorted[0], sorted[len(sorted)-1]
	s.P50 = nearestRank(sorted, 0.50)
	s.P95 = nearestRank(sorted, 0.95)
	s.Total = sum * t.Bucket.Seconds()
	return s, nil
}

// nearestRank returns the p-quantile of sorted by the nearest-rank method.
func nearestRank(sorted []float64, p float64) float64 {
	k := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}
