package live

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// parityTrace is 40 minutes of traffic at the scale of the agents scenarios: flat at
// 40 req/s, a surge to 150 (minutes 8-16), a fall back to 40, an outage with no
// traffic at all (minutes 26-30: the quantiles are NaN, the counts zero), then 80.
func parityTrace() *traces.Trace {
	var rates []float64
	for m := 0; m < 40; m++ {
		r := 40.0
		switch {
		case m >= 8 && m < 16:
			r = 150
		case m >= 26 && m < 30:
			r = 0
		case m >= 30:
			r = 80
		}
		rates = append(rates, r)
	}
	return &traces.Trace{Name: "parity", Bucket: time.Minute, Rates: rates}
}

// TestRulePolicyQueriesMatchSimulator runs the simulator with Prometheus's scrape
// interval (1 s) and, at every control step, evaluates the rule policies' live PromQL
// queries (observationQueries) over the simulator's own scrapes with the native
// PromQL evaluator of env/features (which the features' parity test proves equal to
// the Prometheus engine). The observation the controller would build from those
// answers is compared field by field with the one the simulator hands its
// autoscalers, and every rule policy decides on both.
//
// Gauges (in flight, queued) must be equal at every step, and every policy must take
// the same decision on both in at least 90% of the steps. The windowed fields may
// differ at sharp changes of traffic, for reasons that are Prometheus's and the app's,
// not a bug of either side, so each must agree within its tolerance in at least 90% of
// the steps:
//   - increase() and rate() see the samples of a 14 s span and extrapolate them to the
//     15 s window: what happens in the window's first second is estimated, not counted
//     (a backlog drained right after an outage starts is missed);
//   - http_requests_total counts a request when it is answered, the simulator's
//     arrivals when it arrives: while a queue builds the live arrival rate lags;
//   - the simulator counts an SLO violation when the request completes or is dropped,
//     as the histogram does, but its quantiles interpolate a finer histogram than the
//     app's buckets (so they agree within one bucket).
func TestRulePolicyQueriesMatchSimulator(t *testing.T) {
	set := Settings{Interval: 15 * time.Second, SLO: 500 * time.Millisecond, Min: 1, Max: 20, Slots: 4,
		ServiceMean: 100 * time.Millisecond, StartupDelay: 30 * time.Second}
	cfg, err := set.SimConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.ScrapeInterval = time.Second
	cfg.Seed = 3
	qs := observationQueries(set.Interval, set.SLO)
	spec := features.Spec{}
	for i, q := range qs {
		spec.Features = append(spec.Features, features.Feature{Name: fmt.Sprintf("in%d", i), Expr: q})
	}
	epoch := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range RuleNames() {
		t.Run(name, func(t *testing.T) {
			ev, err := features.NewEvaluator(spec, epoch)
			if err != nil {
				t.Fatalf("the live queries do not compile for the native evaluator: %v", err)
			}
			simA, err := agents.New(name, nil, agents.Context{Sim: cfg})
			if err != nil {
				t.Fatal(err)
			}
			p, err := NewRulePolicy(name, nil, set)
			if err != nil {
				t.Fatal(err)
			}
			liveP := p.(*autoscalerPolicy)
			s, err := sim.New(cfg, parityTrace())
			if err != nil {
				t.Fatal(err)
			}
			s.SetRecorder(ev)
			in := make([]float64, len(qs))
			desired := 3
			var steps, agree, nanQuantiles int
			worst := map[string]float64{}
			off := map[string]int{}
			for {
				obs, done := s.Step(desired)
				if done {
					break
				}
				steps++
				at := epoch.Add(obs.Time)
				for i := range qs {
					v, ok := ev.Raw(i, obs.Time)
					if !ok {
						v = math.NaN()
						if !liveP.Optional(i) {
							t.Fatalf("at %v: query %d %s has no sample", obs.Time, i, qs[i])
						}
					}
					in[i] = v
				}
				lo, err := liveP.Observation(at, in, Replicas{Ready: obs.Ready, Provisioning: obs.Provisioning, Draining: obs.Draining})
				if err != nil {
					t.Fatal(err)
				}
				if lo.InFlight != obs.InFlight || lo.Queued != obs.Queued {
					t.Errorf("at %v: in flight %d queued %d from PromQL, simulator %d %d", obs.Time, lo.InFlight, lo.Queued, obs.InFlight, obs.Queued)
				}
				if lo.Time != obs.Time || lo.Window != obs.Window {
					t.Errorf("at %v: observation time %v window %v, simulator %v %v", obs.Time, lo.Time, lo.Window, obs.Time, obs.Window)
				}
				near := func(field string, got, want, rel, abs float64) {
					d := math.Abs(got - want)
					if d > worst[field] {
						worst[field] = d
					}
					if d > rel*math.Abs(want)+abs {
						off[field]++
						t.Logf("at %v: %s = %.4g from PromQL, simulator %.4g", obs.Time, field, got, want)
					}
				}
				near("arrival rate", lo.ArrivalRate, obs.ArrivalRate, 0.08, 1.5)
				near("arrivals", float64(lo.Arrivals), float64(obs.Arrivals), 0.08, 20)
				near("completed", float64(lo.Completed), float64(obs.Completed), 0.08, 20)
				near("dropped", float64(lo.Dropped), float64(obs.Dropped), 0.1, 3)
				near("SLO violations", float64(lo.SLOViolations), float64(obs.SLOViolations), 0.15, 5)
				near("busy slots", lo.BusySlots, obs.BusySlots, 0.1, 0.3)
				near("utilisation", lo.Utilisation, obs.Utilisation, 0.1, 0.05)
				for _, q := range []struct {
					name      string
					got, want float64
				}{{"p50", lo.LatencyP50, obs.LatencyP50}, {"p95", lo.LatencyP95, obs.LatencyP95}, {"p99", lo.LatencyP99, obs.LatencyP99}} {
					if math.IsNaN(q.got) || math.IsNaN(q.want) {
						nanQuantiles++
						if math.IsNaN(q.got) != math.IsNaN(q.want) {
							off[q.name]++
						}
						continue
					}
					// One bucket of DefBuckets either way.
					near(q.name, q.got, q.want, 1.0, 0.01)
				}
				want := simA.Decide(obs)
				got := liveP.Autoscaler.Decide(lo)
				if got == want {
					agree++
				}
				desired = want
			}
			t.Logf("%s: %d of %d decisions agree; steps off tolerance %v; largest differences %v; %d NaN quantiles", name, agree, steps, off, worst, nanQuantiles)
			for field, n := range off {
				if float64(n) > 0.1*float64(steps) {
					t.Errorf("%s: %s off tolerance in %d of %d steps", name, field, n, steps)
				}
			}
			if steps < 150 {
				t.Fatalf("only %d steps", steps)
			}
			if nanQuantiles == 0 {
				t.Error("no window without completions: the NaN quantile case was not exercised")
			}
			if float64(agree) < 0.9*float64(steps) {
				t.Errorf("%s: only %d of %d decisions agree between the PromQL and the simulator's observation", name, agree, steps)
			}
		})
	}
}
