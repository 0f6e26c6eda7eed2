package calibrate

import (
	"context"
	"fmt"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/traces"
)

// DefaultRateQuery is the request rate of the app at step: the rate of
// http_requests_total summed over every replica and status code, over a window of
// the step, but at least 1m so that a 15 s scrape interval still gives rate() its two
// samples.
func DefaultRateQuery(step time.Duration) string {
	return fmt.Sprintf("sum(rate(http_requests_total[%s]))", promDuration(max(step, time.Minute)))
}

// ImportTrace turns the range query expr (a request rate, requests per second, as
// one series) over [start, end] at step into a trace of step-long buckets from
// start (traces.FromSamples: a step with no sample is a gap, filled with 0). The
// window is cut to a whole number of steps. A step that is not positive or longer
// than the window is a *yamldoc.FieldError at "step".
func ImportTrace(ctx context.Context, q Querier, name, expr string, start, end time.Time, step time.Duration) (*traces.Trace, traces.SamplesInfo, error) {
	if step <= 0 {
		return nil, traces.SamplesInfo{}, yamldoc.Invalid("step", step, "must be > 0")
	}
	if !end.After(start.Add(step - 1)) {
		return nil, traces.SamplesInfo{}, yamldoc.Invalid("step", step, fmt.Sprintf("longer than the window %s to %s (%s)",
			start.Format(time.RFC3339), end.Format(time.RFC3339), yamldoc.Duration(end.Sub(start))))
	}
	n := end.Sub(start) / step
	end = start.Add(n * step)
	ss, err := q.QueryRange(ctx, expr, start.Add(step), end, step)
	if len(ss) == 0 && err == nil {
		return nil, traces.SamplesInfo{}, fmt.Errorf("%s: query %s: %w: empty result between %v and %v (is the metric scraped there?)", name, expr, ErrNoData, start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	s, err := one(expr, ss, err)
	if err != nil {
		return nil, traces.SamplesInfo{}, fmt.Errorf("%s: %w", name, err)
	}
	return traces.FromSamples(name, s.Samples, start, end, step)
}
