// Package calibrate brings production into the lab: it imports request traces from
// Prometheus (a live server or a text dump on disk), fits the simulator's service
// model to the metrics the app exports, and measures how far a simulated run is from
// the live one. Every figure comes from PromQL through a Querier, so the same fitting
// code runs against a Prometheus server, a dump, or a simulated run in memory.
package calibrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/traces"
)

// ErrNoData means a query answered no series.
var ErrNoData = errors.New("no data")

// Series is one series of a range-query answer.
type Series struct {
	// Labels of the series (no __name__ once an expression has transformed it).
	Labels map[string]string
	// Samples in time order.
	Samples []traces.Sample
}

// Querier evaluates PromQL range queries: every step from start to end inclusive.
// An instant query is a range with start == end.
type Querier interface {
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error)
}

// maxPoints is the most points one range request asks Prometheus for; the server
// refuses more than 11,000 per series.
const maxPoints = 10_000

// PromQuerier queries a Prometheus server through client_golang's API client.
type PromQuerier struct {
	url string
	api v1.API
	// Timeout bounds each request, so that a server that stops answering fails the
	// query rather than hangs it. Default DefaultPromTimeout.
	Timeout time.Duration
}

// DefaultPromTimeout is the default PromQuerier.Timeout: longer than Prometheus' own
// query timeout (2 minutes by default).
const DefaultPromTimeout = 3 * time.Minute

// Ping checks that the server answers a PromQL query within timeout, so that a wrong
// or unreachable URL fails at once, not after the first long query.
func (p *PromQuerier) Ping(ctx context.Context, timeout time.Duration) error {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, _, _, err := p.api.Query(tctx, "1", time.Now())
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("prometheus %s: %w", p.url, ctx.Err())
	case tctx.Err() != nil:
		return fmt.Errorf("prometheus %s: no answer within %v: is the URL right and the server up?", p.url, timeout)
	}
	return fmt.Errorf("prometheus %s: %w (is it the URL of a Prometheus server, and is the server up?)", p.url, err)
}

// NewPromQuerier returns a Querier for the Prometheus server at url.
func NewPromQuerier(url string) (*PromQuerier, error) {
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", url, err)
	}
	return &PromQuerier{url: url, api: v1.NewAPI(c)}, nil
}

// QueryRange implements Querier, splitting long ranges into requests of at most
// 10,000 points and joining the answers by series.
func (p *PromQuerier) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	if step <= 0 {
		return nil, fmt.Errorf("query %s: step %v: must be > 0", expr, step)
	}
	byKey := map[string]*Series{}
	var order []string
	for s := start; !s.After(end); s = s.Add(maxPoints * step) {
		e := s.Add((maxPoints - 1) * step)
		if e.After(end) {
			e = end
		}
		v, err := p.queryRange(ctx, expr, v1.Range{Start: s, End: e, Step: step})
		if err != nil {
			return nil, fmt.Errorf("prometheus %s: query %s: %w", p.url, expr, err)
		}
		m, ok := v.(model.Matrix)
		if !ok {
			return nil, fmt.Errorf("prometheus %s: query %s: result of type %s, want a range vector", p.url, expr, v.Type())
		}
		for _, ss := range m {
			k := ss.Metric.String()
			cur := byKey[k]
			if cur == nil {
				cur = &Series{Labels: map[string]string{}}
				for n, v := range ss.Metric {
					cur.Labels[string(n)] = string(v)
				}
				byKey[k] = cur
				order = append(order, k)
			}
			for _, pt := range ss.Values {
				cur.Samples = append(cur.Samples, traces.Sample{T: pt.Timestamp.Time().UTC(), V: float64(pt.Value)})
			}
		}
	}
	sort.Strings(order)
	out := make([]Series, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out, nil
}

// queryRange is one request, within the timeout.
func (p *PromQuerier) queryRange(ctx context.Context, expr string, r v1.Range) (model.Value, error) {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultPromTimeout
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, _, _, err := p.api.QueryRange(tctx, expr, r)
	if err != nil && ctx.Err() == nil && tctx.Err() != nil {
		return nil, fmt.Errorf("no answer within %v", timeout)
	}
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return v, err
}

// EngineQuerier evaluates queries with the promql engine over a storage.Queryable:
// a dump loaded from disk (LoadDump) or a simulated run (features.Storage).
type EngineQuerier struct {
	Name      string // what the storage holds, for errors
	Queryable storage.Queryable
	engine    *promql.Engine
}

// NewEngineQuerier returns a Querier over q with the engine the feature evaluator is
// proven equal to (features.NewEngine: 5-minute lookback).
func NewEngineQuerier(name string, q storage.Queryable) *EngineQuerier {
	return &EngineQuerier{Name: name, Queryable: q, engine: features.NewEngine()}
}

// QueryRange implements Querier.
func (e *EngineQuerier) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	if step <= 0 {
		return nil, fmt.Errorf("query %s: step %v: must be > 0", expr, step)
	}
	q, err := e.engine.NewRangeQuery(ctx, e.Queryable, nil, expr, start, end, step)
	if err != nil {
		return nil, fmt.Errorf("%s: query %s: %w", e.Name, expr, err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, fmt.Errorf("%s: query %s: %w", e.Name, expr, res.Err)
	}
	m, ok := res.Value.(promql.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s: query %s: result of type %s, want a range vector", e.Name, expr, res.Value.Type())
	}
	out := make([]Series, len(m))
	for i, s := range m {
		out[i].Labels = s.Metric.Map()
		for _, p := range s.Floats {
			out[i].Samples = append(out[i].Samples, traces.Sample{T: time.UnixMilli(p.T).UTC(), V: p.F})
		}
	}
	return out, nil
}

// one returns the only series of an answer: an error for none (ErrNoData) or several.
func one(expr string, ss []Series, err error) (Series, error) {
	if err != nil {
		return Series{}, err
	}
	switch len(ss) {
	case 0:
		return Series{}, fmt.Errorf("query %s: %w (empty result: the metric is absent in the window or every sample is stale)", expr, ErrNoData)
	case 1:
		return ss[0], nil
	}
	var names []string
	for i, s := range ss {
		if i == 3 {
			names = append(names, "...")
			break
		}
		names = append(names, labelString(s.Labels))
	}
	return Series{}, fmt.Errorf("query %s: %d series where one was expected (%s): aggregate them, for example with sum(...)", expr, len(ss), strings.Join(names, ", "))
}

// scalarAt evaluates expr at t and returns its one value.
func scalarAt(ctx context.Context, q Querier, expr string, t time.Time) (float64, error) {
	ss, err := q.QueryRange(ctx, expr, t, t, time.Second)
	s, err := one(expr, ss, err)
	if err != nil {
		return math.NaN(), err
	}
	if len(s.Samples) == 0 {
		return math.NaN(), fmt.Errorf("query %s: %w", expr, ErrNoData)
	}
	return s.Samples[len(s.Samples)-1].V, nil
}

func labelString(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", k, ls[k])
	}
	b.WriteByte('}')
	return b.String()
}

// promDuration formats d as a PromQL duration ("90s", "1500ms").
func promDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}
