package features

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
)

// NewEngine returns a Prometheus query engine configured as the native evaluator
// assumes: a 5-minute lookback (Lookback) and no @ or negative offsets.
func NewEngine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:    50_000_000,
		Timeout:       time.Minute,
		LookbackDelta: Lookback,
	})
}

// EvalPromQL evaluates every feature of spec with the Prometheus engine as an instant
// query at ts over q. vals[i] is the value and ok[i] whether the query returned a
// sample (a scalar always does). This is the path the live controller uses against a
// real Prometheus, and the reference the native evaluator is tested against.
func EvalPromQL(ctx context.Context, eng *promql.Engine, q storage.Queryable, spec Spec, ts time.Time, vals []float64, ok []bool) error {
	for i, f := range spec.Features {
		qry, err := eng.NewInstantQuery(ctx, q, nil, f.Expr, ts)
		if err != nil {
			return fmt.Errorf("feature %q (%s): %w", f.Name, f.Expr, err)
		}
		res := qry.Exec(ctx)
		if res.Err != nil {
			qry.Close()
			return fmt.Errorf("feature %q (%s) at %v: %w", f.Name, f.Expr, ts, res.Err)
		}
		vals[i], ok[i] = 0, false
		switch v := res.Value.(type) {
		case promql.Scalar:
			vals[i], ok[i] = v.V, true
		case promql.Vector:
			switch len(v) {
			case 0:
			case 1:
				vals[i], ok[i] = v[0].F, true
			default:
				qry.Close()
				return fmt.Errorf("feature %q (%s) at %v: %d samples, want at most one", f.Name, f.Expr, ts, len(v))
			}
		default:
			qry.Close()
			return fmt.Errorf("feature %q (%s): result type %s, want scalar or instant vector", f.Name, f.Expr, res.Value.Type())
		}
		qry.Close()
	}
	return nil
}
