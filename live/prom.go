package live

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// ErrNoData means a query answered no series: the metric is absent or stale.
var ErrNoData = errors.New("no data")

// Querier evaluates an instant PromQL query that answers one number.
type Querier interface {
	// Query evaluates q at time at. An answer with no series is ErrNoData; with more
	// than one series it is an error (aggregate in the expression).
	Query(ctx context.Context, q string, at time.Time) (float64, error)
	// MetricNames lists the metric names Prometheus holds.
	MetricNames(ctx context.Context) ([]string, error)
}

// promQuerier queries a Prometheus server through client_golang's API client.
type promQuerier struct {
	api v1.API
}

// NewPromQuerier returns a Querier for the Prometheus at url (for example
// http://prometheus:9090).
// The URL must be absolute, http or https with a host: any other would be retried
// in vain until the start-up timeout.
func NewPromQuerier(url string) (Querier, error) {
	if err := CheckHTTPURL(url); err != nil {
		return nil, fmt.Errorf("prometheus %w, e.g. http://127.0.0.1:9090", err)
	}
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", url, err)
	}
	return &promQuerier{api: v1.NewAPI(c)}, nil
}

// Query implements Querier.
func (p *promQuerier) Query(ctx context.Context, q string, at time.Time) (float64, error) {
	v, _, _, err := p.api.Query(ctx, q, at)
	if err != nil {
		return math.NaN(), fmt.Errorf("query %s: %w", q, err)
	}
	switch v := v.(type) {
	case *model.Scalar:
		return float64(v.Value), nil
	case model.Vector:
		switch len(v) {
		case 0:
			return math.NaN(), fmt.Errorf("query %s: %w", q, ErrNoData)
		case 1:
			return float64(v[0].Value), nil
		}
		return math.NaN(), fmt.Errorf("query %s: %d series: want one (aggregate with sum)", q, len(v))
	}
	return math.NaN(), fmt.Errorf("query %s: result of type %s: want a scalar or one series", q, v.Type())
}

// MetricNames implements Querier.
func (p *promQuerier) MetricNames(ctx context.Context) ([]string, error) {
	vals, _, _, err := p.api.LabelValues(ctx, model.MetricNameLabel, nil, time.Time{}, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("metric names: %w", err)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out, nil
}

// metricsIn parses a PromQL expression and returns the metric names it selects,
// sorted and without repeats.
func metricsIn(expr string) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name != "" {
			names = append(names, vs.Name)
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				names = append(names, m.Value)
			}
		}
		return nil
	})
	slices.Sort(names)
	return slices.Compact(names), nil
}

// serviceMetrics are the metric names the stack exports, as recorded by the simulator
// (sim.Scrape): the app's and the controller's.
var serviceMetrics = []string{
	"http_requests_total",
	"http_request_duration_seconds_bucket", "http_request_duration_seconds_sum", "http_request_duration_seconds_count",
	"app_worker_busy_seconds_total", "app_worker_slots",
	"http_requests_in_flight", "http_requests_queued",
	"intelliscale_replicas", "intelliscale_desired_replicas",
	"intelliscale_decisions_total", "intelliscale_errors_total",
	"intelliscale_decision_seconds_bucket", "intelliscale_decision_seconds_sum", "intelliscale_decision_seconds_count",
	"up",
}

// controllerMetric reports whether name is exported by the controller itself (it may
// not have been scraped yet when the controller starts).
func controllerMetric(name string) bool { return strings.HasPrefix(name, "intelliscale_") }

// CheckPolicy refuses a policy whose queries do not parse, or that read metrics
// Prometheus does not hold (other than the controller's own).
func CheckPolicy(ctx context.Context, p Policy, q Querier) error {
	qs := p.Queries()
	if len(qs) == 0 {
		return errors.New("policy has no queries")
	}
	need := map[string][]int{}
	for i, s := range qs {
		names, err := metricsIn(s)
		if err != nil {
			return fmt.Errorf("policy query %d %q: %w", i, s, err)
		}
		for _, n := range names {
			if !controllerMetric(n) {
				need[n] = append(need[n], i)
			}
		}
	}
	have, err := q.MetricNames(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, n := range sortedKeys(need) {
		if !slices.Contains(have, n) {
			missing = append(missing, fmt.Sprintf("%s (query %v)", n, need[n]))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("policy reads metrics Prometheus does not have: %s", strings.Join(missing, ", "))
	}
	return nil
}
