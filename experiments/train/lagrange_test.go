package train

import (
	"math"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/env"
)

// TestUpdateMultiplierHandExample: λ rises by lr·excess above the budget, falls
// below it, stops at 0 and stays there, and ignores a rollout without requests.
func TestUpdateMultiplierHandExample(t *testing.T) {
	const lr, budget = 5, 0.05
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	// 100 of 1000 requests violated: share 0.1, 0.05 over, λ 1 -> 1 + 5·0.05 = 1.25.
	if got := UpdateMultiplier(1, lr, budget, 100, 1000); !near(got, 1.25) {
		t.Fatalf("over budget: λ = %v, want 1.25", got)
	}
	// 10 of 1000: share 0.01, 0.04 under, λ 1 -> 0.8.
	if got := UpdateMultiplier(1, lr, budget, 10, 1000); !near(got, 0.8) {
		t.Fatalf("under budget: λ = %v, want 0.8", got)
	}
	// Exactly on budget: unchanged.
	if got := UpdateMultiplier(0.7, lr, budget, 50, 1000); !near(got, 0.7) {
		t.Fatalf("on budget: λ = %v, want 0.7", got)
	}
	// From 0.1 with share 0: 0.1 - 0.25 < 0, projected to 0; and it stays 0.
	lambda := 0.1
	for i := range 3 {
		lambda = UpdateMultiplier(lambda, lr, budget, 0, 1000)
		if lambda != 0 {
			t.Fatalf("update %d below budget: λ = %v, want 0 (never negative)", i, lambda)
		}
	}
	// Nothing arrived: nothing measured.
	if got := UpdateMultiplier(2, lr, budget, 0, 0); got != 2 {
		t.Fatalf("no arrivals: λ = %v, want 2 unchanged", got)
	}
	// The multiplier type sums the copies' requests: 30/200 and 0/800 give 0.03.
	m := &multiplier{cfg: LagrangianConfig{Enabled: true, Budget: budget, LearningRate: lr}, lambda: 1,
		envs: []*lagrangeEnv{{arrivals: 200, violations: 30}, {arrivals: 800}}}
	m.update()
	if !near(m.share, 0.03) || !near(m.lambda, 0.9) || m.envs[0].lambda != m.lambda || m.envs[1].arrivals != 0 || m.envs[0].violations != 0 {
		t.Fatalf("multiplier after update: share %v λ %v, copies %+v %+v; want 0.03, 0.9, λ set and sums cleared",
			m.share, m.lambda, *m.envs[0], *m.envs[1])
	}
}

// TestConstrainedRewardSubstitutesLambda: the wrapped environment with SLO weight
// 1.5 and λ = 4 gives, step for step, the reward of the same environment built with
// SLO weight 4, and a different one wherever requests violated the SLO.
func TestConstrainedRewardSubstitutesLambda(t *testing.T) {
	cfg := tinyConfig(PPO)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	build := func(w float64) *env.Autoscale {
		c := cfg.Env
		c.CostWeight, c.SLOWeight, c.DropWeight = new(1.0), new(w), new(2.0)
		a, err := env.NewAutoscale(c)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ref := build(4)
	wrapped, err := newLagrangeEnv(&replayEnv{Env: build(1.5)}, 4)
	if err != nil {
		t.Fatal(err)
	}
	ref.Reset(3)
	wrapped.Reset(3)
	var arrivals, violations float64
	violating := 0
	for i := range 120 {
		a := 0 // scale down to the minimum: violations follow
		if i%40 >= 30 {
			a = 6 // then up by 3
		}
		_, rRef, _, _, infoRef := ref.Step(a)
		arrivals += infoRef.Extra["arrivals"]
		violations += infoRef.Extra["violations"]
		_, rW, _, _, infoW := wrapped.Step(a)
		if rW != rRef {
			t.Fatalf("step %d: constrained reward %v, environment with SLO weight 4 gives %v", i, rW, rRef)
		}
		if v := infoW.Extra["violations"]; v > 0 {
			violating++
			if own := infoW.Extra["reward_cost"] + infoW.Extra["reward_slo"] + infoW.Extra["reward_drop"]; own == rW {
				t.Fatalf("step %d: %v violations but the reward is the environment's own (weight 1.5)", i, v)
			}
		}
	}
	if violating == 0 {
		t.Fatal("no step violated the SLO: the test proves nothing")
	}
	if wrapped.arrivals != arrivals || wrapped.violations != violations {
		t.Fatalf("wrapper summed %v arrivals, %v violations; the steps had %v, %v", wrapped.arrivals, wrapped.violations, arrivals, violations)
	}
}

func TestLagrangianConfig(t *testing.T) {
	c, err := DecodeConfig(strings.NewReader("algorithm: ppo\nlagrangian: {enabled: true}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Lagrangian.LearningRate != DefaultLagrangeLearningRate || c.Lagrangian.Budget != 0 {
		t.Fatalf("defaults before Resolve: %+v", c.Lagrangian)
	}
	c.Env.Sim.SLO.Target = 0.99
	if err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Lagrangian.Budget-0.01) > 1e-12 {
		t.Fatalf("budget %v, want 1 - slo target 0.99", c.Lagrangian.Budget)
	}
	y, err := c.resolvedYAML()
	if err != nil || !strings.Contains(string(y), "lagrangian:") {
		t.Fatalf("config.yaml lacks the lagrangian block: %v\n%s", err, y)
	}

	// Off: the block is absent from the resolved YAML, so configurations written
	// before it existed keep their hash (and their checkpoints).
	off := DefaultConfig(PPO)
	if err := off.Validate(); err != nil {
		t.Fatal(err)
	}
	y, _ = off.resolvedYAML()
	if strings.Contains(string(y), "lagrangian") {
		t.Fatalf("disabled lagrangian written to config.yaml:\n%s", y)
	}
	on := off
	on.Lagrangian = LagrangianConfig{Enabled: true, Budget: 0.04, LearningRate: 5}
	h1, _ := off.Hash()
	h2, _ := on.Hash()
	if h1 == h2 {
		t.Fatal("enabling the multiplier does not change the hash")
	}

	for _, c := range []struct{ yaml, want string }{
		{"algorithm: dqn\nlagrangian: {enabled: true}\n", "lagrangian.enabled"},
		{"algorithm: ppo\nlagrangian: {enabled: true, learning_rate: -1}\n", "lagrangian.learning_rate"},
		{"algorithm: ppo\nlagrangian: {enabled: true, budget: 1}\n", "lagrangian.budget"},
		{"algorithm: ppo\nlagrangian: {enabled: true, budget: -0.1}\n", "lagrangian.budget"},
		{"algorithm: ppo\nlagrangian: {budget: 0.04}\n", "enabled is false"},
		{"algorithm: ppo\nlagrangian: {enabled: true, budjet: 0.04}\n", "budjet"},
	} {
		_, err := DecodeConfig(strings.NewReader(c.yaml), "c.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: error %v, want one naming line 2 and %q", c.yaml, err, c.want)
		}
	}
}
