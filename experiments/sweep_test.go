package experiments

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/elasticity"
)

const sweepCfg = `name: s
seeds: [1, 2]
traces:
  - {name: a, builtin: bursty}
policies:
  - name: hpa
    kind: hpa
    params: {target_utilization: 0.6, tolerance: 0.1}
    sweep: {param: target_utilization, values: [0.5, 0.8]}
  - name: lag
    kind: ppo
    train:
      steps: 10
      params:
        ppo: {gamma: 0.9}
        lagrangian: {enabled: true, budget: 0.03}
    sweep: {param: lagrangian.budget, values: [0.01]}
  - name: w
    kind: dqn
    train: {steps: 10}
    sweep: {param: env.slo_weight, values: [1, 4]}
`

func TestVariantsExpandSweeps(t *testing.T) {
	cfg, err := Parse([]byte(sweepCfg), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vs := Variants(cfg)
	var names []string
	for _, v := range vs {
		names = append(names, v.Spec.Name)
	}
	if got := strings.Join(names, " "); got != "hpa hpa@0.5 hpa@0.8 lag lag@0.01 w w@1 w@4" {
		t.Fatalf("variants %s", got)
	}
	// The base reads its knob from its own params; NaN where it is left at a default.
	if vs[0].Value != 0.6 || !vs[0].Base || vs[3].Value != 0.03 || !math.IsNaN(vs[5].Value) {
		t.Errorf("base values %v %v %v", vs[0].Value, vs[3].Value, vs[5].Value)
	}
	if knobValue(&vs[1].Spec.Params, "target_utilization") != 0.5 || knobValue(&vs[1].Spec.Params, "tolerance") != 0.1 {
		t.Errorf("hpa@0.5 params lost or not set")
	}
	lag := vs[4].Spec.Train.Params
	if knobValue(&lag, "lagrangian.budget") != 0.01 || knobValue(&lag, "ppo.gamma") != 0.9 {
		t.Errorf("lag@0.01 train params: budget %v gamma %v", knobValue(&lag, "lagrangian.budget"), knobValue(&lag, "ppo.gamma"))
	}
	var en struct {
		Lagrangian struct {
			Enabled bool
			Budget  float64
		}
	}
	if err := lag.Decode(&en); err != nil || !en.Lagrangian.Enabled || en.Lagrangian.Budget != 0.01 {
		t.Errorf("lag@0.01 decodes to %+v (%v)", en, err)
	}
	if knobValue(&vs[7].Spec.Train.Params, "env.slo_weight") != 4 {
		t.Errorf("w@4: slo_weight not created")
	}
	// The config itself is untouched.
	if knobValue(&cfg.Policies[1].Train.Params, "lagrangian.budget") != 0.03 || cfg.Policies[2].Train.Params.Kind != 0 {
		t.Errorf("Variants modified the config")
	}
	if FamilyOf("lag@0.01") != "lag" || FamilyOf("hpa") != "hpa" {
		t.Errorf("FamilyOf")
	}
	prep, eval := Matrix(cfg)
	// 5 learned variants x 2 seeds train; 8 variants x 2 windows x 2 seeds evaluate.
	if len(prep) != 10 || len(eval) != 32 {
		t.Errorf("matrix: %d prepare, %d eval cells", len(prep), len(eval))
	}
	if prep[2].Dir() != "train/lag@0.01__1" {
		t.Errorf("train cell %s", prep[2].Dir())
	}
}

func TestSweepValidation(t *testing.T) {
	base := "name: x\ntraces:\n  - {name: a, builtin: bursty}\npolicies:\n"
	cases := []struct{ yaml, want string }{
		{"  - {name: h, kind: hpa, sweep: {values: [1]}}\n", "c.yaml line 5: policies[0].sweep.param: required"},
		{"  - {name: h, kind: hpa, sweep: {param: a..b, values: [1]}}\n", "policies[0].sweep.param: \"a..b\": empty key"},
		{"  - {name: h, kind: hpa, sweep: {param: t}}\n", "policies[0].sweep.values: at least one"},
		{"  - {name: h, kind: hpa, sweep: {param: t, values: [1, 2, 1]}}\n", "policies[0].sweep.values[2]: 1: duplicate"},
		{"  - {name: h, kind: hpa-tuned, tune: {grid: [1]}, sweep: {param: t, values: [1]}}\n", "policies[0].sweep: not valid for hpa-tuned"},
		{"  - {name: h, kind: hpa, sweep: {param: t, values: [1], step: 2}}\n", `sweep.step: unknown key "step"`},
	}
	for _, c := range cases {
		_, err := Parse([]byte(base+c.yaml), "c.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.yaml, err, c.want)
		}
	}
}

func TestSetPathLeavesInputAlone(t *testing.T) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("a: {b: 1, c: 2}\nd: 3\n"), &n); err != nil {
		t.Fatal(err)
	}
	m := n.Content[0]
	out := setPath(m, "a.b", 7)
	if knobValue(out, "a.b") != 7 || knobValue(out, "a.c") != 2 || knobValue(out, "d") != 3 {
		t.Errorf("setPath result wrong")
	}
	if knobValue(m, "a.b") != 1 {
		t.Errorf("setPath changed its input")
	}
}

// TestDefaultConfigIsAtScale checks the shipped benchmark's scale: demand of the
// built-in traces spans a few to over 100 replicas, within max_replicas, and the SLO
// is one a sized replica set can meet at every level the report matches (the service
// time alone exceeds the SLO latency for far fewer than 1% of requests).
func TestDefaultConfigIsAtScale(t *testing.T) {
	cfg, err := Load("configs/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sim
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	q := elasticity.Queue{ServiceMean: s.ServiceTime.MeanSeconds(), ServiceSCV: s.ServiceTime.SCV(), Slots: s.Concurrency,
		SLOLatency: s.SLO.Latency.Seconds(), SLOTarget: 0.99, MaxReplicas: s.MaxReplicas}
	if tail := elasticity.ResponseTail(q, s.MaxReplicas, 0, q.SLOLatency); tail > 0.002 {
		t.Errorf("service time alone exceeds the SLO latency for %.3g of requests", tail)
	}
	lo, hi := s.MaxReplicas, 0
	for _, spec := range cfg.Traces {
		tr, err := loadTrace(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range tr.Rates {
			d := elasticity.Demand(q, r)
			lo, hi = min(lo, d), max(hi, d)
		}
	}
	if lo > 10 || hi < 100 || hi >= s.MaxReplicas {
		t.Errorf("demand spans %d to %d replicas (max_replicas %d); want from at most 10 to at least 100, below the maximum", lo, hi, s.MaxReplicas)
	}
	t.Logf("demand at 99%% within %v: %d to %d replicas", s.SLO.Latency, lo, hi)
}

// TestDeployKnobSharesTraining: a sweep of a learned policy's deploy-time knob
// (headroom_scale) trains nothing of its own: its evaluation cells run the family's
// trained policy with the knob set, and they differ from the family's as the knob
// says.
func TestDeployKnobSharesTraining(t *testing.T) {
	cfg := tinyCfg(t)
	cfg.Policies[3].Sweep = &Sweep{Param: "headroom_scale", Values: []float64{0.5, 2}}
	vs := Variants(cfg)
	var names []string
	for _, v := range vs {
		names = append(names, v.Spec.Name)
		if v.Family == "ppo" && !v.Base {
			if v.Spec.Train != cfg.Policies[3].Train || knobValue(&v.Spec.Params, "headroom_scale") != v.Value {
				t.Errorf("%s: train %v, params headroom_scale %v", v.Spec.Name, v.Spec.Train, knobValue(&v.Spec.Params, "headroom_scale"))
			}
			if v.Spec.TrainedAs() != "ppo" {
				t.Errorf("%s trained as %q", v.Spec.Name, v.Spec.TrainedAs())
			}
		}
	}
	if got := strings.Join(names, " "); got != "threshold hpa-tuned oracle ppo ppo@0.5 ppo@2" {
		t.Fatalf("variants %s", got)
	}
	prep, eval := Matrix(cfg)
	trains := 0
	for _, c := range prep {
		if c.Phase == PhaseTrain {
			trains++
			if c.Policy != "ppo" {
				t.Errorf("train cell %s for a deploy-time variant", c.Dir())
			}
		}
	}
	if trains != len(cfg.Seeds) {
		t.Errorf("%d train cells, want %d", trains, len(cfg.Seeds))
	}
	for _, c := range eval {
		if FamilyOf(c.Policy) == "ppo" {
			if d := dependencies(c, cfg.Seeds); len(d) != 1 || d[0].Dir() != "train/ppo__"+strconv.FormatUint(c.Seed, 10) {
				t.Errorf("%s depends on %v", c.Dir(), d)
			}
		}
	}

	f := &fakeBackend{}
	out := t.TempDir()
	r := &Runner{Config: cfg, Out: out, Backend: f.backend(), Workers: 2}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.trains.Load(); got != int64(len(cfg.Seeds)) {
		t.Errorf("%d trainings, want %d", got, len(cfg.Seeds))
	}
	cost := func(pol string) float64 {
		var m CellMetrics
		b, err := os.ReadFile(filepath.Join(out, "cells", "alpha__"+pol+"__1__test", "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return float64(m.Metrics["cost"])
	}
	lo, base, hi := cost("ppo@0.5"), cost("ppo"), cost("ppo@2")
	if !(lo > base && base > hi) {
		t.Errorf("cost at headroom_scale 0.5 / as trained / 2: %v / %v / %v, want decreasing", lo, base, hi)
	}
}

// TestDeployParamsChecked: a learned policy's params are its deploy-time
// parameters, decoded strictly and checked against its action mode before
// anything runs; the errors name the field.
func TestDeployParamsChecked(t *testing.T) {
	for _, c := range []struct{ params, want string }{
		{"{headroom_scale: 1.2}", "action_mode target or forecast"}, // the default mode is delta
		{"{headroom_sclae: 1.2}", "headroom_sclae"},
		{"{headroom_scale: -1}", "policies[0].params.headroom_scale"},
	} {
		cfg, err := Parse([]byte("name: x\ntraces:\n  - {name: a, builtin: bursty}\npolicies:\n  - {name: p, kind: ppo, train: {steps: 1024}, params: "+c.params+"}\n"), "x.yaml")
		if err == nil {
			err = Check(cfg, DefaultBackend())
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("params %s: error %v, want one naming %q", c.params, err, c.want)
		}
	}
	// A sweep value of the knob is checked before anything trains, and named.
	cfg, err := Parse([]byte("name: x\ntraces:\n  - {name: a, builtin: bursty}\npolicies:\n  - name: p\n    kind: ppo\n    train: {steps: 1024, params: {env: {action_mode: target, actions: [50, 80]}}}\n    sweep: {param: headroom_scale, values: [0.5, 0, 2]}\n"), "x.yaml")
	if err == nil {
		err = Check(cfg, DefaultBackend())
	}
	if err == nil || !strings.Contains(err.Error(), "x.yaml line 8: policies[0].sweep.values[1].params.headroom_scale: 0: must be > 0") {
		t.Errorf("a bad sweep value: %v", err)
	}
}
