package calibrate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Interval holds the figures of one comparison interval, read with PromQL so that a
// live run and a simulated one are measured by the same expressions.
type Interval struct {
	// P95 latency of completed requests in seconds, interpolated in the latency
	// histogram's buckets as histogram_quantile does; NaN with no completed request.
	P95 float64
	// Arrivals and Violations (dropped, or completed slower than the SLO latency).
	Arrivals, Violations float64
	// Replicas ready at the end of the interval; NaN when unknown.
	Replicas float64
}

// GapQueries are the expressions Figures evaluates. Their zero value means the
// defaults: the app's metrics, and ready replicas from intelliscale_replicas.
type GapQueries struct {
	// Replicas ready. Default sum(intelliscale_replicas{state="ready"}).
	Replicas string
}

// Figures reads n intervals of length interval from start: interval k is
// (start+k*interval, start+(k+1)*interval]. slo is the SLO latency; it must be a
// bound of the latency histogram (for example 0.5 s).
func Figures(ctx context.Context, q Querier, start time.Time, n int, interval, slo time.Duration, gq GapQueries) ([]Interval, error) {
	if gq.Replicas == "" {
		gq.Replicas = `sum(intelliscale_replicas{state="ready"})`
	}
	w := promDuration(interval)
	le := strconv.FormatFloat(slo.Seconds(), 'f', -1, 64)
	if le == strconv.FormatFloat(math.Round(slo.Seconds()), 'f', -1, 64) {
		le += ".0" // Prometheus 3 stores le labels in OpenMetrics float form
	}
	exprs := []string{
		`histogram_quantile(0.95, sum by (le) (increase(http_request_duration_seconds_bucket[` + w + `])))`,
		`sum(increase(http_requests_total[` + w + `]))`,
		`sum(increase(http_requests_total{code!="200"}[` + w + `])) + sum(increase(http_request_duration_seconds_count[` + w + `])) - sum(increase(http_request_duration_seconds_bucket{le="` + le + `"}[` + w + `]))`,
		gq.Replicas,
	}
	out := make([]Interval, n)
	for i := range out {
		out[i] = Interval{P95: math.NaN(), Replicas: math.NaN()}
	}
	from, to := start.Add(interval), start.Add(time.Duration(n)*interval)
	for j, e := range exprs {
		ss, err := q.QueryRange(ctx, e, from, to, interval)
		if err != nil {
			return nil, err
		}
		if len(ss) == 0 {
			if j == 1 {
				return nil, fmt.Errorf("query %s: %w", e, ErrNoData)
			}
			continue
		}
		s, err := one(e, ss, nil)
		if err != nil {
			return nil, err
		}
		for _, p := range s.Samples {
			// Rounded: the answer's millisecond timestamps may fall just short of a
			// start with finer precision.
			k := int(math.Round(float64(p.T.Sub(start))/float64(interval))) - 1
			if k < 0 || k >= n {
				continue
			}
			switch j {
			case 0:
				out[k].P95 = p.V
			case 1:
				out[k].Arrivals = p.V
			case 2:
				out[k].Violations = max(0, p.V)
			case 3:
				out[k].Replicas = p.V
			}
		}
	}
	return out, nil
}

// Gap compares a simulated run with a live one, interval by interval.
type Gap struct {
	// Intervals compared (with a p95 on both sides).
	Intervals int
	// MedianP95Err and WorstP95Err: the median and the largest |sim - live| / live of
	// the per-interval p95 latency.
	MedianP95Err, WorstP95Err float64
	// LiveViolations and SimViolations: the share of requests violating the SLO over
	// the whole run (in [0, 1]); ViolationDiffPoints = 100 * |sim - live|.
	LiveViolations, SimViolations, ViolationDiffPoints float64
	// ReplicasAgree: share of intervals where the ready replica counts differ by at
	// most 1 (NaN when neither side knows them).
	ReplicasAgree float64
}

// Compare measures the gap between the live and the simulated figures of the same
// intervals.
func Compare(live, simulated []Interval) Gap {
	var g Gap
	var errs []float64
	var la, lv, sa, sv float64
	agree, known := 0, 0
	for i := range min(len(live), len(simulated)) {
		l, s := live[i], simulated[i]
		la, lv, sa, sv = la+l.Arrivals, lv+l.Violations, sa+s.Arrivals, sv+s.Violations
		if l.P95 > 0 && !math.IsNaN(s.P95) && !math.IsInf(l.P95, 0) && !math.IsInf(s.P95, 0) {
			errs = append(errs, math.Abs(s.P95-l.P95)/l.P95)
		}
		if !math.IsNaN(l.Replicas) && !math.IsNaN(s.Replicas) {
			known++
			if math.Abs(l.Replicas-s.Replicas) <= 1 {
				agree++
			}
		}
	}
	g.Intervals = len(errs)
	g.MedianP95Err, g.WorstP95Err = math.NaN(), math.NaN()
	if len(errs) > 0 {
		slices.Sort(errs)
		g.WorstP95Err = errs[len(errs)-1]
		if n := len(errs); n%2 == 1 {
			g.MedianP95Err = errs[n/2]
		} else {
			g.MedianP95Err = (errs[n/2-1] + errs[n/2]) / 2
		}
	}
	if la > 0 {
		g.LiveViolations = lv / la
	}
	if sa > 0 {
		g.SimViolations = sv / sa
	}
	g.ViolationDiffPoints = 100 * math.Abs(g.SimViolations-g.LiveViolations)
	g.ReplicasAgree = math.NaN()
	if known > 0 {
		g.ReplicasAgree = float64(agree) / float64(known)
	}
	return g
}

func (g Gap) String() string {
	return fmt.Sprintf("p95 error median %.1f%% worst %.1f%% over %d intervals; SLO violations live %.2f%% sim %.2f%% (diff %.2f points); replicas within 1: %.0f%%",
		100*g.MedianP95Err, 100*g.WorstP95Err, g.Intervals, 100*g.LiveViolations, 100*g.SimViolations, g.ViolationDiffPoints, 100*g.ReplicasAgree)
}
