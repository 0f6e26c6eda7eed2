package live

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/sim"
)

func TestAutoscalerPolicyBuildsObservation(t *testing.T) {
	var seen sim.Observation
	p := NewAutoscalerPolicy(sim.AutoscalerFunc(func(o sim.Observation) int { seen = o; return 7 }), 10*time.Second, 500*time.Millisecond, 1, 9)
	if len(p.Queries()) != numObservationInputs {
		t.Fatalf("%d queries", len(p.Queries()))
	}
	in := make([]float64, numObservationInputs)
	in[InArrivalRate], in[InCompleted], in[InDropped] = 12.34, 120, 3
	in[InP50], in[InP95], in[InP99] = math.NaN(), 0.4, 0.9
	in[InUtilisation], in[InReady], in[InProvisioning], in[InDraining] = 0.5, 3, 1, 1
	in[InInFlight], in[InQueued], in[InSLOViolations] = 9, 2, 4
	got, err := p.Decide(in, 4)
	if err != nil || got != 7 {
		t.Fatalf("decide %d %v", got, err)
	}
	want := sim.Observation{Window: 10 * time.Second, Arrivals: 123, Completed: 120, Dropped: 3, ArrivalRate: 12.34,
		LatencyP95: 0.4, LatencyP99: 0.9, SLOViolations: 4, Utilisation: 0.5, InFlight: 9, Queued: 2,
		Ready: 3, Provisioning: 1, Draining: 1, Desired: 4, MinReplicas: 1, MaxReplicas: 9}
	if !math.IsNaN(seen.LatencyP50) {
		t.Errorf("p50 %v, want NaN passed through", seen.LatencyP50)
	}
	seen.LatencyP50 = 0
	if seen != want {
		t.Errorf("observation\n got %+v\nwant %+v", seen, want)
	}
	for i, q := range p.Queries() {
		if _, err := MetricsIn(q); err != nil {
			t.Errorf("query %d %q: %v", i, q, err)
		}
	}
	if !strings.Contains(p.Queries()[InSLOViolations], `le="0.5"`) || !strings.Contains(p.Queries()[InArrivalRate], "[10s]") {
		t.Errorf("window or SLO not in the queries: %q", p.Queries())
	}
}

func TestThreshold(t *testing.T) {
	th := &Threshold{}
	if err := th.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		util float64
		want int
	}{{0.9, 4}, {0.5, 3}, {0.1, 2}, {0.7, 3}, {0.3, 3}} {
		if got := th.Decide(sim.Observation{Utilisation: tc.util, Desired: 3}); got != tc.want {
			t.Errorf("utilisation %v: %d, want %d", tc.util, got, tc.want)
		}
	}
	if err := (&Threshold{Up: 0.2, Down: 0.5}).Validate(); err == nil {
		t.Error("down above up accepted")
	}
}

func TestFeaturePolicyDimensions(t *testing.T) {
	act := func(f []float64) int { return int(f[0]) }
	if _, err := NewFeaturePolicy([]string{"a", "b"}, []int{-1, 0, 1}, 3, 3, act); err == nil || !strings.Contains(err.Error(), "3 inputs") {
		t.Errorf("feature count mismatch: %v", err)
	}
	if _, err := NewFeaturePolicy([]string{"a"}, []int{-1, 1}, 1, 3, act); err == nil || !strings.Contains(err.Error(), "3 actions") {
		t.Errorf("action count mismatch: %v", err)
	}
	p, err := NewFeaturePolicy([]string{"a"}, []int{-1, 0, 2}, 1, 3, act)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Decide([]float64{2}, 3); got != 5 {
		t.Errorf("action 2 (delta +2) from 3: %d", got)
	}
	if _, err := p.Decide([]float64{7}, 3); err == nil {
		t.Error("action out of range accepted")
	}
}

func TestLoadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	pc := PolicyContext{Window: 5 * time.Second, SLO: 500 * time.Millisecond, Min: 1, Max: 5}
	p, err := LoadPolicyFile(write("ok.yaml", "kind: threshold\nparams: {up: 0.8, down: 0.2, step: 2}\n"), pc)
	if err != nil {
		t.Fatal(err)
	}
	th := p.(*AutoscalerPolicy).Autoscaler.(*Threshold)
	if th.Up != 0.8 || th.Step != 2 {
		t.Errorf("params not applied: %+v", th)
	}
	for name, body := range map[string]string{
		"unknown-kind.yaml":  "kind: nope\n",
		"unknown-key.yaml":   "kind: threshold\nparams: {upp: 0.8}\n",
		"unknown-field.yaml": "kind: threshold\nextra: 1\n",
		"bad-params.yaml":    "kind: threshold\nparams: {up: 0.1, down: 0.5}\n",
	} {
		if _, err := LoadPolicyFile(write(name, body), pc); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v, want an error naming the file", name, err)
		}
	}
}

func TestCheckPolicyRefusesUnknownMetrics(t *testing.T) {
	q := &fakeProm{names: []string{"http_requests_total", "app_worker_slots"}}
	ok := &FeaturePolicy{Features: []string{`sum(rate(http_requests_total[1m]))`, `sum(intelliscale_desired_replicas)`}, Deltas: []int{0}, Act: func([]float64) int { return 0 }}
	if err := CheckPolicy(context.Background(), ok, q); err != nil {
		t.Errorf("known metrics (and the controller's own) refused: %v", err)
	}
	bad := &FeaturePolicy{Features: []string{`sum(rate(http_requests_total[1m]))`, `sum(gpu_temperature)`}, Deltas: []int{0}, Act: func([]float64) int { return 0 }}
	if err := CheckPolicy(context.Background(), bad, q); err == nil || !strings.Contains(err.Error(), "gpu_temperature (query [1])") {
		t.Errorf("unknown metric: %v", err)
	}
	syntax := &FeaturePolicy{Features: []string{`sum(rate(http_requests_total[1m])`}, Deltas: []int{0}, Act: func([]float64) int { return 0 }}
	if err := CheckPolicy(context.Background(), syntax, q); err == nil || !strings.Contains(err.Error(), "query 0") {
		t.Errorf("bad PromQL: %v", err)
	}
}

func TestMetricsIn(t *testing.T) {
	got, err := MetricsIn(`sum(rate(b_total[1m])) / sum({__name__="a"}) + on() vector(1) - b_total`)
	if err != nil || strings.Join(got, ",") != "a,b_total" {
		t.Errorf("got %v %v", got, err)
	}
}
