package live

import (
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/sim"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

var testSettings = Settings{Interval: 10 * time.Second, SLO: 500 * time.Millisecond, Min: 1, Max: 9, Slots: 4,
	ServiceMean: 100 * time.Millisecond, StartupDelay: 5 * time.Second}

// rule builds an agents policy with inline params.
func rule(t testing.TB, name, params string, s Settings) *autoscalerPolicy {
	t.Helper()
	n, err := ParseParams(params)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewRulePolicy(name, n, s)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*autoscalerPolicy)
}

// inputs returns observation inputs, every one v.
func inputs(v float64) []float64 {
	in := make([]float64, numObservationInputs)
	for i := range in {
		in[i] = v
	}
	return in
}

func TestAutoscalerPolicyBuildsObservation(t *testing.T) {
	var seen []sim.Observation
	p := newAutoscalerPolicy(sim.AutoscalerFunc(func(o sim.Observation) int { seen = append(seen, o); return 7 }), testSettings)
	if len(p.Queries()) != numObservationInputs {
		t.Fatalf("%d queries", len(p.Queries()))
	}
	in := make([]float64, numObservationInputs)
	in[inArrivalRate], in[inCompleted], in[inDropped] = 12.34, 120, 3
	in[inP50], in[inP95], in[inP99] = math.NaN(), 0.4, 0.9
	in[inUtilisation], in[inBusySlots] = 0.5, 6.5
	in[inInFlight], in[inQueued], in[inSLOViolations] = 9, 2, 4
	t0 := time.Unix(5000, 0)
	r := Replicas{Ready: 3, Provisioning: 1, Draining: 1}
	for _, at := range []time.Time{t0, t0.Add(10 * time.Second), t0.Add(25 * time.Second)} {
		if got, err := p.Decide(at, in, r); err != nil || got != 7 {
			t.Fatalf("decide %d %v", got, err)
		}
	}
	want := sim.Observation{Time: 10 * time.Second, Window: 10 * time.Second, Arrivals: 123, Completed: 120, Dropped: 3, ArrivalRate: 12.34,
		LatencyP95: 0.4, LatencyP99: 0.9, SLOViolations: 4, Utilisation: 0.5, BusySlots: 6.5, InFlight: 9, Queued: 2,
		Ready: 3, Provisioning: 1, Draining: 1, Desired: 4, Slots: 4, MinReplicas: 1, MaxReplicas: 9}
	got := seen[0]
	if !math.IsNaN(got.LatencyP50) {
		t.Errorf("p50 %v, want NaN passed through", got.LatencyP50)
	}
	got.LatencyP50 = 0
	if got != want {
		t.Errorf("observation\n got %+v\nwant %+v", got, want)
	}
	// Time runs with the wall clock from one interval before the first decision.
	if seen[1].Time != 20*time.Second || seen[2].Time != 35*time.Second {
		t.Errorf("observation times %v, %v: want 20s and 35s", seen[1].Time, seen[2].Time)
	}
	for i, q := range p.Queries() {
		if _, err := metricsIn(q); err != nil {
			t.Errorf("query %d %q: %v", i, q, err)
		}
	}
	if !strings.Contains(p.Queries()[inSLOViolations], `le="0.5"`) || !strings.Contains(p.Queries()[inArrivalRate], "[10s]") {
		t.Errorf("window or SLO not in the queries: %q", p.Queries())
	}
	if q := p.Queries()[inBusySlots]; q != `sum(rate(app_worker_busy_seconds_total[10s]))` {
		t.Errorf("busy slots query %q", q)
	}
}

func TestSettingsSimConfig(t *testing.T) {
	c, err := testSettings.SimConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.Concurrency != 4 || c.ControlInterval != 10*time.Second || *c.MinReplicas != 1 || c.MaxReplicas != 9 ||
		c.SLO.Latency != 500*time.Millisecond || c.ServiceTime.MeanSeconds() != 0.1 || c.StartupDelay.MeanSeconds() != 5 {
		t.Errorf("sim config does not reflect the settings: %+v", c)
	}
	bad := testSettings
	bad.Slots = -1
	if _, err := bad.SimConfig(); err == nil || !strings.Contains(err.Error(), "concurrency") {
		t.Errorf("negative slots: %v", err)
	}
}

func TestRulePoliciesFromAgents(t *testing.T) {
	names := RuleNames()
	if slices.Contains(names, "oracle") || len(names) != len(agents.Names())-1 {
		t.Errorf("rule names %v: want every agents policy but the oracle", names)
	}
	for _, n := range names {
		if _, err := NewRulePolicy(n, nil, testSettings); err != nil {
			t.Errorf("%s with defaults: %v", n, err)
		}
	}
	if _, err := NewRulePolicy("oracle", nil, testSettings); err == nil || !strings.Contains(err.Error(), "future") {
		t.Errorf("oracle: %v; want a refusal saying it needs the future", err)
	}
	if _, err := NewRulePolicy("nope", nil, testSettings); err == nil || !strings.Contains(err.Error(), "threshold") {
		t.Errorf("unknown policy: %v; want the known ones listed", err)
	}
	n, _ := ParseParams("{upper: 0.7, lowr: 0.3}")
	if _, err := NewRulePolicy("threshold", n, testSettings); err == nil || !strings.Contains(err.Error(), "lowr") {
		t.Errorf("unknown param: %v; want an error naming it", err)
	}
	if _, err := ParseParams("{upper: [}"); err == nil {
		t.Error("bad YAML accepted")
	}
}

// TestThresholdParamsAndCooldown runs the agents threshold with inline params:
// up above 0.7 at once, down below 0.3 only 10 s after the last action.
func TestThresholdParamsAndCooldown(t *testing.T) {
	p := rule(t, "threshold", "{upper: 0.7, lower: 0.3, cooldown_up: 0s, cooldown_down: 10s}", Settings{
		Interval: 5 * time.Second, SLO: 500 * time.Millisecond, Min: 1, Max: 5, Slots: 4, ServiceMean: 100 * time.Millisecond})
	t0 := time.Unix(0, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	util := func(u float64) []float64 { in := inputs(1); in[inUtilisation] = u; return in }
	for _, tc := range []struct {
		sec  int
		util float64
		r    Replicas
		want int
	}{
		{0, 0.9, Replicas{Ready: 2}, 3},         // above upper: +1
		{5, 0.9, Replicas{Ready: 3}, 4},         // no cooldown up
		{10, 0.1, Replicas{Ready: 4}, 4},        // below lower, 5 s after the last action: wait
		{15, 0.1, Replicas{Ready: 4}, 3},        // 10 s after: -1
		{20, 0.5, Replicas{Ready: 3}, 3},        // in band
		{25, 0.9, Replicas{Provisioning: 2}, 2}, // no ready replica: hold
	} {
		got, err := p.Decide(at(tc.sec), util(tc.util), tc.r)
		if err != nil || got != tc.want {
			t.Errorf("t=%ds utilisation %v replicas %+v: %d (%v), want %d", tc.sec, tc.util, tc.r, got, err, tc.want)
		}
	}
}

// TestHPAReadsBusySlots: the HPA recommendation is ready x (busy slots / (ready x
// slots)) / target, from BusySlots and Slots, not from the window's utilisation.
func TestHPAReadsBusySlots(t *testing.T) {
	p := rule(t, "hpa", "{target_utilization: 0.6}", testSettings)
	in := inputs(0)
	in[inUtilisation] = 0.3 // would recommend ceil(2 x 0.3 / 0.6) = 1
	in[inBusySlots] = 6.4   // 6.4 / 8 = 0.8: ceil(2 x 0.8 / 0.6) = 3
	got, err := p.Decide(time.Unix(100, 0), in, Replicas{Ready: 2})
	if err != nil || got != 3 {
		t.Errorf("hpa: %d (%v), want 3 from 6.4 busy slots of 2 x 4", got, err)
	}
}

func TestCheckPolicyRefusesUnknownMetrics(t *testing.T) {
	q := &fakeProm{names: []string{"http_requests_total", "app_worker_slots"}}
	ok := queriesPolicy{`sum(rate(http_requests_total[1m]))`, `sum(intelliscale_desired_replicas)`}
	if err := CheckPolicy(context.Background(), ok, q); err != nil {
		t.Errorf("known metrics (and the controller's own) refused: %v", err)
	}
	bad := queriesPolicy{`sum(rate(http_requests_total[1m]))`, `sum(gpu_temperature)`}
	if err := CheckPolicy(context.Background(), bad, q); err == nil || !strings.Contains(err.Error(), "gpu_temperature (query [1])") {
		t.Errorf("unknown metric: %v", err)
	}
	syntax := queriesPolicy{`sum(rate(http_requests_total[1m])`}
	if err := CheckPolicy(context.Background(), syntax, q); err == nil || !strings.Contains(err.Error(), "query 0") {
		t.Errorf("bad PromQL: %v", err)
	}
}

// queriesPolicy has queries and never scales.
type queriesPolicy []string

func (p queriesPolicy) Queries() []string { return p }
func (p queriesPolicy) Decide(_ time.Time, _ []float64, r Replicas) (int, error) {
	return r.Current(), nil
}

func TestMetricsIn(t *testing.T) {
	got, err := metricsIn(`sum(rate(b_total[1m])) / sum({__name__="a"}) + on() vector(1) - b_total`)
	if err != nil || strings.Join(got, ",") != "a,b_total" {
		t.Errorf("got %v %v", got, err)
	}
}

// TestObservationQueriesSLOBucketAsStored evaluates the SLO-violation query with the
// Prometheus engine over series labelled as Prometheus 3 stores them (le="1.0", not
// le="1"): for every SLO that is a bucket bound the query must answer a sample, equal
// to the served-too-slow count plus the drops. A selector written in another format
// matches no series, and the controller would hold on every decision.
func TestObservationQueriesSLOBucketAsStored(t *testing.T) {
	st := features.NewStorage(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	var s sim.Scrape
	for k := 1; k <= 8; k++ {
		s.Time = time.Duration(k) * 15 * time.Second
		for b := range s.DurationBuckets {
			s.DurationBuckets[b] += float64(10 * (b + 1)) // 10(b+1) more at or below bound b
		}
		s.DurationCount += 200
		s.RequestsOK += 200
		s.RequestsRejected += 4
		st.Record(&s)
	}
	eng := features.NewEngine()
	at := st.Epoch.Add(8 * 15 * time.Second)
	for b, bound := range sim.DefBuckets {
		slo := time.Duration(math.Round(bound * float64(time.Second)))
		q := observationQueries(time.Minute, slo)[inSLOViolations]
		spec := features.Spec{Features: []features.Feature{{Name: "v", Expr: q}}}
		vals, ok := make([]float64, 1), make([]bool, 1)
		if err := features.EvalPromQL(context.Background(), eng, st, spec, at, vals, ok); err != nil {
			t.Fatalf("slo %v: %v", slo, err)
		}
		if !ok[0] {
			t.Errorf("slo %v: query %s answered no sample", slo, q)
			continue
		}
		// The counters grow linearly, one step per 15 s scrape, so their increase over
		// the last minute is 4 steps: 800 served, 40(b+1) of them within bucket b, and
		// 16 rejected.
		want := 800 - 40*float64(b+1) + 16
		if math.Abs(vals[0]-want) > 1e-9*want {
			t.Errorf("slo %v: violations %v, want %v", slo, vals[0], want)
		}
	}
}

func TestRulePolicyRejectsSLOOffBuckets(t *testing.T) {
	s := testSettings
	s.SLO = 300 * time.Millisecond
	n, _ := ParseParams("")
	_, err := NewRulePolicy("threshold", n, s)
	if err == nil || !strings.Contains(err.Error(), "bucket") {
		t.Errorf("SLO 300ms (no bucket bound): %v, want an error naming the buckets", err)
	}
	for _, b := range sim.DefBuckets {
		s.SLO = time.Duration(math.Round(b * float64(time.Second)))
		if _, err := NewRulePolicy("threshold", n, s); err != nil {
			t.Errorf("SLO %v (a bucket bound): %v", s.SLO, err)
		}
	}
}
