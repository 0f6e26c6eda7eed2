package train

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/traces"
)

// recipeSpelledOut is the training config that writes out a recipe's settings by
// hand, as real.yaml's entry holds them: algorithm, steps, traffic with windows,
// and the params as top-level keys.
func recipeSpelledOut(t *testing.T, algorithm string, r Recipe) string {
	t.Helper()
	doc := map[string]any{"algorithm": algorithm, "steps": r.Steps}
	if r.Traffic != nil {
		doc["traffic"], doc["windows"] = r.Traffic, r.Windows
	}
	var params map[string]any
	if err := r.Params.Decode(&params); err != nil {
		t.Fatal(err)
	}
	for k, v := range params {
		doc[k] = v
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hashableYAML is what Hash reads of a validated configuration, every setting but
// checkpoint_every and the recipe's name, in one YAML style (a mapping written
// {a: 1} in a config comes out as a block).
func hashableYAML(t *testing.T, c Config) string {
	t.Helper()
	y, err := c.hashable().resolvedYAML()
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(y, &v); err != nil {
		t.Fatal(err)
	}
	if y, err = yaml.Marshal(v); err != nil {
		t.Fatal(err)
	}
	return string(y)
}

// A stand-alone training config naming a recipe trains with the settings of
// real.yaml's entry, as if written out by hand: the same steps, traffic and
// every other setting.
func TestRecipesInTrainingConfig(t *testing.T) {
	n := 0
	for _, alg := range slices.Sorted(maps.Keys(Recipes)) {
		for _, name := range RecipeNames(alg) {
			n++
			got, err := DecodeConfig(strings.NewReader("algorithm: "+alg+"\nrecipe: "+name+"\n"), "t.yaml")
			if err != nil {
				t.Fatalf("%s/%s: %v", alg, name, err)
			}
			r, err := LookupRecipe(alg, name)
			if err != nil {
				t.Fatal(err)
			}
			spelled := recipeSpelledOut(t, alg, r)
			want, err := DecodeConfig(strings.NewReader(spelled), "spelled.yaml")
			if err != nil {
				t.Fatalf("%s/%s spelled out: %v\n%s", alg, name, err, spelled)
			}
			if g, w := hashableYAML(t, got), hashableYAML(t, want); g != w {
				t.Errorf("recipe %s/%s trains with\n%s\nreal.yaml's entry written out with\n%s", alg, name, g, w)
			}
			if got.Recipe != name {
				t.Errorf("recipe %s/%s: the config records recipe %q", alg, name, got.Recipe)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d recipes, want 3 (ppo benchmark and zero-shot, dqn benchmark)", n)
	}
	// What the entries of real.yaml say, read here without the recipe code.
	ppoB, _ := DecodeConfig(strings.NewReader("algorithm: ppo\nrecipe: benchmark\n"), "t.yaml")
	if ppoB.Steps != 100000 || ppoB.Env.Fidelity != "fluid" || ppoB.Selection.Every != 20000 || ppoB.WarmStart == nil ||
		ppoB.WarmStart.Expert != "oracle" || ppoB.Traffic != nil || ppoOf(ppoB).LearningRate != 0.001 {
		t.Errorf("ppo/benchmark: steps %d, env %+v, selection %+v, warm start %+v, traffic %+v", ppoB.Steps, ppoB.Env, ppoB.Selection, ppoB.WarmStart, ppoB.Traffic)
	}
	zs, _ := DecodeConfig(strings.NewReader("algorithm: ppo\nrecipe: zero-shot\n"), "t.yaml")
	if zs.Traffic == nil || zs.Traffic.Random == nil || zs.Traffic.Random.Count != 8 || zs.Windows || zs.Selection.Every != 0 || zs.Env.RateScale != [2]float64{0.5, 2} {
		t.Errorf("ppo/zero-shot: traffic %+v, windows %v, selection %+v, rate scale %v", zs.Traffic, zs.Windows, zs.Selection, zs.Env.RateScale)
	}
	dq, _ := DecodeConfig(strings.NewReader("algorithm: dqn\nrecipe: benchmark\n"), "t.yaml")
	if dq.Traffic == nil || dq.Traffic.Random == nil || dq.Traffic.Random.Seed != 11 || !dq.Windows || dqnOf(dq).BufferSize != 50000 {
		t.Errorf("dqn/benchmark: traffic %+v, windows %v, dqn %+v", dq.Traffic, dq.Windows, dqnOf(dq))
	}
}

// Keys beside a recipe win, mappings key by key; traffic replaces the recipe's
// traffic and its windows together. The recorded config.yaml loads to the same.
func TestRecipeOverridesInTrainingConfig(t *testing.T) {
	c, err := DecodeConfig(strings.NewReader(`algorithm: ppo
recipe: benchmark
steps: 5000
seed: 4
env:
  slo_weight: 8
  shield: {max_down_percent: 5}
ppo: {gamma: 0.9}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := ppoOf(c)
	if c.Steps != 5000 || c.Seed != 4 || c.Env.SLOWeight == nil || *c.Env.SLOWeight != 8 || c.Env.Fidelity != "fluid" || c.Env.ActionMode != "target" ||
		c.Env.Shield.MaxDownPercent != 5 || c.Env.Shield.ScaleDownWindow != 10*time.Minute || c.Selection.Every != 20000 ||
		c.WarmStart == nil || c.WarmStart.Steps != 20000 || p.Gamma != 0.9 || p.LearningRate != 0.001 || !p.NormalizeObs {
		t.Errorf("overrides: steps %d, seed %d, env %+v, selection %+v, warm start %+v, ppo %+v", c.Steps, c.Seed, c.Env, c.Selection, c.WarmStart, p)
	}
	y, err := c.resolvedYAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(y), "recipe: benchmark\n") {
		t.Errorf("config.yaml does not name its recipe:\n%s", y)
	}
	again, err := DecodeConfig(strings.NewReader(string(y)), "config.yaml")
	if err != nil {
		t.Fatalf("config.yaml: %v\n%s", err, y)
	}
	if hashableYAML(t, again) != hashableYAML(t, c) {
		t.Errorf("config.yaml loads to\n%s\nwant\n%s", hashableYAML(t, again), hashableYAML(t, c))
	}

	d, err := DecodeConfig(strings.NewReader("algorithm: dqn\nrecipe: benchmark\ntraffic: {traces: [{builtin: bursty}]}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d.Windows || d.Traffic.Random != nil || len(d.Traffic.Traces) != 1 || d.Selection.Every != 20000 {
		t.Errorf("traffic beside dqn's recipe: traffic %+v, windows %v, selection %+v; want bursty alone", d.Traffic, d.Windows, d.Selection)
	}
}

// An unknown recipe, or a bad key beside one, is an error naming the file, line
// and field; without a known algorithm the algorithm is what is reported.
func TestRecipeErrorsInTrainingConfig(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"algorithm: ppo\nrecipe: fast\n", `t.yaml line 2: recipe: "fast": want one of benchmark, zero-shot for ppo`},
		{"algorithm: dqn\nseed: 2\nrecipe: zero-shot\n", `t.yaml line 3: recipe: "zero-shot": want one of benchmark for dqn`},
		{"algorithm: ppo\nrecipe: benchmark\nenv: {slo_wieght: 3}\n", `t.yaml line 3: env.slo_wieght: unknown key "slo_wieght"`},
		{"algorithm: ppo\nrecipe: benchmark\nenv:\n  slo_weight: -1\n", "t.yaml line 4: env.slo_weight: -1: must be at least 0"},
		{"algorithm: dqn\nrecipe: benchmark\nppo: {gamma: 0.9}\n", "t.yaml line 3: ppo: a ppo section in a dqn run would be ignored"},
		{"recipe: benchmark\n", "algorithm: required"},
		{"algorithm: a2c\nrecipe: benchmark\n", `t.yaml line 1: algorithm: "a2c"`},
		{"algorithm: ppo\nwindows: true\n", "t.yaml line 2: windows: set without traffic"},
		{"algorithm: ppo\ntraffic: {}\n", "t.yaml line 2: traffic: empty"},
	} {
		_, err := DecodeConfig(strings.NewReader(c.yaml), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error containing %q", c.yaml, err, c.want)
		}
	}
	c := DefaultConfig(PPO)
	c.Recipe = "fast"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `recipe: "fast": want one of benchmark, zero-shot for ppo`) {
		t.Errorf("Validate with an unknown recipe: %v", err)
	}
}

// An experiment's train.params may not hold what its train block sets.
func TestDecodeParamsRefusesTheTrainBlockKeys(t *testing.T) {
	for key, want := range map[string]string{
		"recipe: benchmark":                      "recipe: set by the experiment (the policy's train.recipe), not here",
		"traffic: {random: {count: 2}}":          "traffic: set by the experiment (the policy's train.traffic), not here",
		"windows: true":                          "windows: set by the experiment (the policy's train.windows), not here",
		"env: {slo_weight: 2}\nsteps: 10":        "steps: set by the experiment",
		"selection: {every: 10}\nsplit: [1,0,0]": "split: set by the experiment",
		"ppo: {total_steps: 5}":                  "ppo.total_steps: set by the experiment (the policy's train.steps), not here",
		"ppo: {gamma: 0.9, seed: 3}":             "ppo.seed: set by the experiment (the experiment's seeds), not here",
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(key), &n); err != nil {
			t.Fatal(err)
		}
		_, err := DecodeParams(n.Content[0], PPO)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("params %q: %v, want %q", key, err, want)
		}
	}
}

// With traffic, a run trains on its whole traces; with windows, after the train
// parts of the traces. Selection's validation windows are the traces' either way.
func TestTrafficTrainsOnWholeTraces(t *testing.T) {
	own := traces.Source{Synth: &traces.SynthSpec{Name: "own", Duration: 6 * time.Hour, Bucket: 5 * time.Minute, BaseRate: 20}}
	for _, windows := range []bool{false, true} {
		c := tinyConfig(PPO)
		c.Traffic = &traces.Traffic{Traces: []traces.Source{own}}
		c.Windows = windows
		c.Selection.Every = 768
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := c.Resolve(); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tr := range c.Env.Traces {
			names = append(names, tr.Name)
		}
		want := []string{"own"}
		if windows {
			want = []string{"tiny-train", "own"}
		}
		if !slices.Equal(names, want) {
			t.Errorf("windows %v: trains on %v, want %v", windows, names, want)
			continue
		}
		last := c.Env.Traces[len(c.Env.Traces)-1]
		if last.Duration() != 6*time.Hour || last.Bucket != 5*time.Minute {
			t.Errorf("windows %v: the traffic's trace is %v of %v buckets, want all 6h of it", windows, last.Duration(), last.Bucket)
		}
		if windows && c.Env.Traces[0].Duration() != time.Duration(0.8*12*float64(time.Hour)) {
			t.Errorf("the train part of tiny is %v, want 80%% of 12h", c.Env.Traces[0].Duration())
		}
		if len(c.Validation) != 1 || c.Validation[0].Whole.Name != "tiny" {
			t.Errorf("windows %v: %d validation windows, want tiny's", windows, len(c.Validation))
		}
	}
	// Traffic is the caller's choice of traces, as Env.Traces is: not both.
	c := tinyConfig(PPO)
	c.Traces = nil
	c.Traffic = &traces.Traffic{Traces: []traces.Source{own}}
	tr, err := own.Trace()
	if err != nil {
		t.Fatal(err)
	}
	c.Env.Traces = []*traces.Trace{tr}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "traffic: must be unset when the environment's traces are given") {
		t.Errorf("traffic beside Env.Traces: %v", err)
	}
}
