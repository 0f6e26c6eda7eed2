package env

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

func autoscaleTraces() []*traces.Trace {
	const n = 180 // 3 h of 1-minute buckets
	ramp, wave, onoff := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		ramp[i] = 5 + float64(i)*0.6
		wave[i] = 50 + 40*math.Sin(2*math.Pi*float64(i)/50)
		if (i/20)%2 == 0 {
			onoff[i] = 70
		}
	}
	return []*traces.Trace{
		{Name: "ramp", Bucket: time.Minute, Rates: ramp},
		{Name: "wave", Bucket: time.Minute, Rates: wave, Start: time.Date(2024, 3, 5, 21, 0, 0, 0, time.UTC)},
		{Name: "onoff", Bucket: time.Minute, Rates: onoff},
	}
}

func testConfig(trs ...*traces.Trace) AutoscaleConfig {
	return AutoscaleConfig{
		Sim:           sim.Config{MaxReplicas: 30},
		Traces:        trs,
		EpisodeLength: time.Hour,
	}
}

// TestAutoscaleFeatureParity is the headline check: whole episodes on three traces,
// random actions, and at every step the env's native observation must equal the
// features evaluated by the Prometheus engine over the recorded series, transformed
// the same way (relative difference <= 1e-9).
func TestAutoscaleFeatureParity(t *testing.T) {
	eng := features.NewEngine()
	ctx := context.Background()
	for i, tr := range autoscaleTraces() {
		t.Run(tr.Name, func(t *testing.T) {
			a, err := NewAutoscale(testConfig(tr))
			if err != nil {
				t.Fatal(err)
			}
			st := features.NewStorage(time.Time{})
			a.SetRecorder(st)
			spec := a.Config().Features
			vals := make([]float64, len(spec.Features))
			ok := make([]bool, len(spec.Features))
			check := func(step int, obs []float64, at time.Duration) {
				ts := time.UnixMilli(st.Millis(at))
				if err := features.EvalPromQL(ctx, eng, st, spec, ts, vals, ok); err != nil {
					t.Fatal(err)
				}
				for k := range spec.Features {
					want := spec.Features[k].Transform(vals[k], ok[k])
					if d := math.Abs(obs[k] - want); d > 1e-9*math.Max(math.Abs(want), 1e-300) && obs[k] != want {
						t.Fatalf("step %d feature %s: env %v, promql %v", step, spec.Features[k].Name, obs[k], want)
					}
				}
			}
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			obs, _ := a.Reset(uint64(100 + i))
			st.Epoch = a.Epoch()
			check(0, obs, a.Sim().Now())
			steps := 0
			for {
				var trunc bool
				obs, _, _, trunc, _ = a.Step(rng.IntN(a.ActionSpace().N))
				steps++
				check(steps, obs, a.Sim().Now())
				if trunc {
					break
				}
			}
			if steps != 240 {
				t.Errorf("episode of %d steps, want 240 (1 h at 15 s)", steps)
			}
		})
	}
}

func TestAutoscaleDeterministic(t *testing.T) {
	run := func() ([]float64, []float64) {
		a, err := NewAutoscale(testConfig(autoscaleTraces()...))
		if err != nil {
			t.Fatal(err)
		}
		var obsSeq, rews []float64
		for ep := range 2 {
			obs, _ := a.Reset(uint64(7 + ep))
			obsSeq = append(obsSeq, obs...)
			for k := 0; ; k++ {
				o, r, _, trunc, _ := a.Step(k % 7)
				obsSeq = append(obsSeq, o...)
				rews = append(rews, r)
				if trunc {
					break
				}
			}
		}
		return obsSeq, rews
	}
	o1, r1 := run()
	o2, r2 := run()
	if len(o1) != len(o2) || len(r1) != len(r2) {
		t.Fatalf("lengths differ: %d/%d obs, %d/%d rewards", len(o1), len(o2), len(r1), len(r2))
	}
	for i := range o1 {
		if math.Float64bits(o1[i]) != math.Float64bits(o2[i]) {
			t.Fatalf("obs %d: %v vs %v", i, o1[i], o2[i])
		}
	}
	for i := range r1 {
		if r1[i] != r2[i] {
			t.Fatalf("reward %d: %v vs %v", i, r1[i], r2[i])
		}
	}
}

func TestAutoscaleClampAndSpace(t *testing.T) {
	cfg := testConfig(autoscaleTraces()[0])
	cfg.Sim.MinReplicas, cfg.Sim.MaxReplicas = new(2), 9
	a, err := NewAutoscale(cfg)
	if err != nil {
		t.Fatal(err)
	}
	space := a.ObservationSpace()
	if obs, _ := a.Reset(1); !space.Contains(obs) {
		t.Fatalf("reset obs %v outside %v", obs, space)
	}
	_, info0 := a.Reset(1)
	want := info0.Extra["initial_replicas"]
	for k := range 40 {
		act, delta := 6, 3.0 // +3
		if k >= 20 {
			act, delta = 0, -3
		}
		obs, r, term, _, info := a.Step(act)
		want = math.Min(9, math.Max(2, want+delta))
		if info.Extra["desired"] != want {
			t.Fatalf("step %d: desired %v, want %v", k, info.Extra["desired"], want)
		}
		if term || r > 0 || !space.Contains(obs) {
			t.Fatalf("step %d: terminated %v reward %v obs in space %v", k, term, r, space.Contains(obs))
		}
	}
	_, _, _, _, info := a.Step(99)
	if info.Extra["invalid_action"] != 1 || info.Extra["desired"] != 2 {
		t.Fatalf("invalid action: extra %v", info.Extra)
	}
}

func TestReward(t *testing.T) {
	cfg := testConfig(autoscaleTraces()[0])
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// MaxReplicas 30, weights 1, 5, 5: 6 replicas cost 6/30; 10 of 200 slow; 4 dropped.
	c, s, d := Reward(cfg, 6, 200, 10, 4)
	if c != 0.2 || s != 0.25 || d != 0.1 {
		t.Fatalf("terms %v %v %v, want 0.2 0.25 0.1", c, s, d)
	}
	if c, s, d := Reward(cfg, 0, 0, 0, 0); c != 0 || s != 0 || d != 0 {
		t.Fatalf("idle terms %v %v %v, want zeros", c, s, d)
	}
}

// TestRewardRanksPolicies: a simple reactive policy must score clearly better than
// always-maximum and always-minimum on the same windows, or the reward cannot teach.
func TestRewardRanksPolicies(t *testing.T) {
	a, err := NewAutoscale(testConfig(autoscaleTraces()...))
	if err != nil {
		t.Fatal(err)
	}
	names := a.Config().Features.Names()
	util := -1
	for i, n := range names {
		if n == "utilisation" {
			util = i
		}
	}
	policies := map[string]func(obs []float64) int{
		"max": func([]float64) int { return 6 },
		"min": func([]float64) int { return 0 },
		"reactive": func(obs []float64) int {
			switch {
			case obs[util] > 0.8:
				return 5 // +2
			case obs[util] < 0.5:
				return 2 // -1
			}
			return 3
		},
	}
	ret := map[string]float64{}
	for name, p := range policies {
		for seed := range uint64(3) {
			obs, _ := a.Reset(seed)
			for {
				o, r, _, trunc, _ := a.Step(p(obs))
				obs = o
				ret[name] += r
				if trunc {
					break
				}
			}
		}
	}
	if !(ret["reactive"] > ret["max"]+10 && ret["reactive"] > ret["min"]+10) {
		t.Fatalf("returns %v: reactive should beat both static extremes by > 10", ret)
	}
}

// TestPolicyAutoscalerSeesEnvObservations: a chooser run through PolicyAutoscaler in a
// plain simulator loop (as sim.Run drives it) sees the same observations as in the env
// and asks for the same counts, with delta actions and with percent actions behind a
// shield (the one decision path, Actuator, in both).
func TestPolicyAutoscalerSeesEnvObservations(t *testing.T) {
	for _, variant := range []string{"delta", "percent+shield", "target+shield", "forecast+shield"} {
		t.Run(variant, func(t *testing.T) {
			tr := autoscaleTraces()[1]
			cfg := testConfig(tr)
			cfg.Warmup = -1
			switch variant {
			case "percent+shield":
				cfg.ActionMode = ActionPercent
				cfg.Shield = Shield{ScaleDownWindow: 2 * time.Minute, MaxUpPercent: 50, MaxDownPercent: 20}
			case "target+shield", "forecast+shield":
				cfg.ActionMode = ActionTarget
				if variant == "forecast+shield" {
					cfg.ActionMode = ActionForecast
				}
				cfg.Actions = []int{30, 50, 70, 90, 40, 60, 80}
				cfg.Shield = Shield{ScaleDownWindow: 2 * time.Minute, MaxUpPercent: 50, MaxDownPercent: 20}
			}
			a, err := NewAutoscale(cfg)
			if err != nil {
				t.Fatal(err)
			}
			choose := func(obs []float64) int { return int(math.Abs(obs[0]*7+obs[1]*3)) % 7 }
			var envObs [][]float64
			var envDesired []int
			obs, info, err := a.ResetWindow(tr, 0, 0, 1, 42)
			if err != nil {
				t.Fatal(err)
			}
			initial := int(info.Extra["initial_replicas"])
			for {
				envObs = append(envObs, append([]float64(nil), obs...))
				var trunc bool
				obs, _, _, trunc, info = a.Step(choose(obs))
				envDesired = append(envDesired, int(info.Extra["desired"]))
				if trunc {
					break
				}
			}
			act, err := NewActuator(a.Config().ActionMode, a.Config().Actions, a.Config().Shield, a.Config().Features)
			if err != nil {
				t.Fatal(err)
			}
			pa, err := NewPolicyAutoscaler(a.Config().Features, a.Epoch(), act, choose)
			if err != nil {
				t.Fatal(err)
			}
			sc := a.Config().Sim
			sc.Seed, sc.InitialReplicas = 42, initial
			s, err := sim.New(sc, tr)
			if err != nil {
				t.Fatal(err)
			}
			s.SetRecorder(pa)
			o := s.Observe()
			changes := 0
			for k := 0; ; k++ {
				d := pa.Decide(o)
				if k >= len(envObs) {
					t.Fatalf("policy run longer than env episode (%d steps)", len(envObs))
				}
				for i, v := range pa.Observation() {
					if math.Float64bits(v) != math.Float64bits(envObs[k][i]) {
						t.Fatalf("step %d feature %d: policy autoscaler %v, env %v", k, i, v, envObs[k][i])
					}
				}
				if d != envDesired[k] {
					t.Fatalf("step %d: policy autoscaler asks for %d, env %d", k, d, envDesired[k])
				}
				if k > 0 && envDesired[k] != envDesired[k-1] {
					changes++
				}
				var done bool
				if o, done = s.Step(d); done {
					if k+1 != len(envObs) {
						t.Fatalf("policy run %d steps, env %d", k+1, len(envObs))
					}
					break
				}
			}
			if changes == 0 {
				t.Fatal("the count never changed: the comparison proves nothing")
			}
		})
	}
}

func BenchmarkAutoscaleStep(b *testing.B) {
	a, err := NewAutoscale(testConfig(autoscaleTraces()...))
	if err != nil {
		b.Fatal(err)
	}
	a.Reset(1)
	b.ReportAllocs()
	b.ResetTimer()
	seed := uint64(2)
	for i := 0; i < b.N; i++ {
		if _, _, _, trunc, _ := a.Step(i % 7); trunc {
			b.StopTimer()
			a.Reset(seed)
			seed++
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// TestAutoscaleConfigValidateRejects checks bad values are refused with the field
// named, and that the error does not depend on map iteration order.
func TestAutoscaleConfigValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(c *AutoscaleConfig)
		want string
	}{
		{"rate_scale NaN high", func(c *AutoscaleConfig) { c.RateScale = [2]float64{0.5, math.NaN()} }, "rate_scale: [0.5 NaN]: want 0 < low <= high <= 1000"},
		{"rate_scale NaN low", func(c *AutoscaleConfig) { c.RateScale = [2]float64{math.NaN(), 1} }, "rate_scale: [NaN 1]"},
		{"negative weights", func(c *AutoscaleConfig) { c.CostWeight, c.SLOWeight, c.DropWeight = new(-1.0), new(-1.0), new(-1.0) },
			"cost_weight: -1: must be at least 0\nslo_weight: -1: must be at least 0\ndrop_weight: -1: must be at least 0"},
		{"NaN weight", func(c *AutoscaleConfig) { c.SLOWeight = new(math.NaN()) }, "slo_weight: NaN: must be a finite number in [0, 1e+06]"},
		{"empty actions", func(c *AutoscaleConfig) { c.Actions = []int{} }, "actions: empty: list at least one replica change"},
		{"huge action", func(c *AutoscaleConfig) { c.Actions = []int{0, 1 << 20} }, "actions[1]: 1048576: must be at most 30"},
		{"episode shorter than a step", func(c *AutoscaleConfig) { c.EpisodeLength = time.Second }, "episode_length: 1s: must be at least 15s"},
		{"sim error lifted", func(c *AutoscaleConfig) { c.Sim.ControlInterval = time.Nanosecond }, "sim.control_interval: 1ns: must be at least 100ms"},
		{"hide an unknown feature", func(c *AutoscaleConfig) { c.Hide = []string{"ready", "replicas"} }, `hide[1]: "replicas": not a feature (utilisation, rate_per_ready,`},
	} {
		for range 5 {
			cfg := testConfig(autoscaleTraces()...)
			tc.set(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("%s: %v, want %q", tc.name, err, tc.want)
			}
		}
	}
}

// TestRewardWeightsDefaultOneByOne: setting one weight leaves the others at their own
// defaults (it once zeroed them), and an explicit 0 is kept.
func TestRewardWeightsDefaultOneByOne(t *testing.T) {
	cfg := testConfig(autoscaleTraces()...)
	cfg.SLOWeight = new(10.0)
	cfg.DropWeight = new(0.0)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if *cfg.CostWeight != DefaultCostWeight || *cfg.SLOWeight != 10 || *cfg.DropWeight != 0 {
		t.Fatalf("weights %v %v %v, want 1 10 0", *cfg.CostWeight, *cfg.SLOWeight, *cfg.DropWeight)
	}
}

// TestAutoscaleHide: hidden features reach the learner as 0 while the actuator still
// reads them, so that under the same actions a target-mode episode runs exactly as
// without hiding, its observations equal but for the hidden entries.
func TestAutoscaleHide(t *testing.T) {
	mk := func(hide []string) *Autoscale {
		cfg := testConfig(autoscaleTraces()...)
		cfg.ActionMode, cfg.Actions = ActionTarget, []int{40, 60, 90}
		cfg.Hide = hide
		a, err := NewAutoscale(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	shown, hidden := mk(nil), mk([]string{"ready", "provisioning"})
	spec := hidden.Config().Features
	idx := map[int]bool{}
	for i, f := range spec.Features {
		if f.Name == "ready" || f.Name == "provisioning" {
			idx[i] = f.Hidden
		}
	}
	if len(idx) != 2 || !idx[slices.Index(spec.Names(), "ready")] || shown.Config().Features.AnyHidden() {
		t.Fatalf("hidden flags %v; shown spec hides %v", idx, shown.Config().Features.AnyHidden())
	}
	o1, _ := shown.Reset(7)
	o2, _ := hidden.Reset(7)
	rng := rand.New(rand.NewPCG(3, 4))
	sawReady := false
	for step := 0; step < 200; step++ {
		for i := range o1 {
			want := o1[i]
			if _, h := idx[i]; h {
				sawReady = sawReady || o1[i] != 0
				want = 0
			}
			if o2[i] != want {
				t.Fatalf("step %d feature %s: %v, want %v (shown %v)", step, spec.Features[i].Name, o2[i], want, o1[i])
			}
		}
		act := rng.IntN(3)
		var r1, r2 float64
		var done1, done2 bool
		o1, r1, _, done1, _ = shown.Step(act)
		o2, r2, _, done2, _ = hidden.Step(act)
		if r1 != r2 || done1 != done2 {
			t.Fatalf("step %d: reward %v / %v, truncated %v / %v: hiding changed the episode", step, r1, r2, done1, done2)
		}
		if done1 {
			o1, _ = shown.Reset(uint64(step))
			o2, _ = hidden.Reset(uint64(step))
		}
	}
	if !sawReady {
		t.Fatal("the hidden features were 0 when shown too: the test proves nothing")
	}
}
