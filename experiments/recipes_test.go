package experiments

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/experiments/train"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"gopkg.in/yaml.v3"
)

// The recipes are the settings of make bench-real's entries, as trained there:
// the same steps, traffic and decoded training config.
func TestRecipesMatchBenchmark(t *testing.T) {
	real, err := Load("configs/real.yaml")
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{"ppo/benchmark": "ppo", "ppo/zero-shot": "ppo-zero-shot", "dqn/benchmark": "dqn"}
	n := 0
	for kind := range recipes {
		if !agents.IsLearner(kind) {
			t.Errorf("recipes for %q, not a registered learner (%v)", kind, agents.LearnerNames())
		}
		for _, name := range RecipeNames(kind) {
			n++
			entry, ok := entries[kind+"/"+name]
			if !ok {
				t.Errorf("recipe %s/%s: no entry of real.yaml to check it against", kind, name)
				continue
			}
			var want PolicySpec
			for _, p := range real.Policies {
				if p.Name == entry {
					want = p
				}
			}
			cfg, err := Parse([]byte("name: r\npolicies:\n  - {name: "+entry+", kind: "+kind+", train: {recipe: "+name+"}}\ntraces: [{name: a, builtin: step}]\n"), "r.yaml")
			if err != nil {
				t.Fatalf("recipe %s/%s: %v", kind, name, err)
			}
			got := cfg.Policies[0]
			if got.Train.Steps != want.Train.Steps || got.Train.Windows != want.Train.Windows || !reflect.DeepEqual(got.Train.Traffic, want.Train.Traffic) {
				t.Errorf("recipe %s/%s: steps %d windows %v traffic %+v; real.yaml's %s: %d %v %+v", kind, name,
					got.Train.Steps, got.Train.Windows, got.Train.Traffic, entry, want.Train.Steps, want.Train.Windows, want.Train.Traffic)
			}
			g, err := trainer{kind}.config(got)
			if err != nil {
				t.Fatal(err)
			}
			w, err := trainer{kind}.config(want)
			if err != nil {
				t.Fatal(err)
			}
			if gy, wy := marshalTraining(t, g), marshalTraining(t, w); gy != wy {
				t.Errorf("recipe %s/%s trains with\n%s\nreal.yaml's %s with\n%s", kind, name, gy, entry, wy)
			}
		}
	}
	if n != len(entries) {
		t.Errorf("%d recipes, want %d", n, len(entries))
	}
}

// Keys beside a recipe win, key by key; the written config parses to the same.
func TestRecipeOverrides(t *testing.T) {
	cfg, err := Parse([]byte(`name: r
traces: [{name: a, builtin: step}]
policies:
  - name: ppo
    kind: ppo
    train:
      recipe: benchmark
      steps: 5000
      params:
        env: {slo_weight: 8, shield: {max_down_percent: 5}}
`), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Policies[0]
	c, err := trainer{"ppo"}.config(p)
	if err != nil {
		t.Fatal(err)
	}
	if p.Train.Steps != 5000 || c.Env.SLOWeight == nil || *c.Env.SLOWeight != 8 || c.Env.Fidelity != "fluid" || c.Env.ActionMode != "target" ||
		c.Env.Shield.MaxDownPercent != 5 || c.Env.Shield.ScaleDownWindow == 0 || c.Selection.Every != 20000 || c.WarmStart.Steps != 20000 {
		t.Errorf("overrides: steps %d, env %+v, selection %+v, warm start %+v", p.Train.Steps, c.Env, c.Selection, c.WarmStart)
	}
	// What the run writes to config.yaml parses back to the same training.
	data, err := marshalConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(data, "config.yaml")
	if err != nil {
		t.Fatalf("written config: %v\n%s", err, data)
	}
	c2, err := trainer{"ppo"}.config(again.Policies[0])
	if err != nil || marshalTraining(t, c) != marshalTraining(t, c2) || again.Policies[0].Train.Steps != 5000 {
		t.Errorf("written and parsed again: %s (%v), want %s", marshalTraining(t, c2), err, marshalTraining(t, c))
	}
	if !strings.Contains(string(data), "recipe: benchmark") {
		t.Errorf("written config does not name its recipe:\n%s", data)
	}
}

func TestRecipeErrors(t *testing.T) {
	for _, c := range []struct{ policy, want string }{
		{"{name: p, kind: ppo, train: {recipe: fast}}", `r.yaml line 4: policies[0].train.recipe: "fast": want one of benchmark, zero-shot for ppo`},
		{"{name: p, kind: dqn, train: {recipe: zero-shot}}", `policies[0].train.recipe: "zero-shot": want one of benchmark for dqn`},
		{"{name: p, kind: hpa, train: {recipe: benchmark}}", "policies[0].train: only valid for the learned kinds"},
		{"{name: p, kind: ppo, file: x.json, train: {recipe: benchmark}}", "policies[0].train: set beside file"},
	} {
		_, err := Parse([]byte("name: r\ntraces: [{name: a, builtin: step}]\npolicies:\n  - "+c.policy+"\n"), "r.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.policy, err, c.want)
		}
	}
	if got := RecipeNames("ppo"); !slices.Equal(got, []string{"benchmark", "zero-shot"}) {
		t.Errorf("RecipeNames(ppo) = %v", got)
	}
}

// marshalTraining is a training config as YAML, every setting and hyperparameter
// (its algorithm's section decoded over the algorithm's defaults).
func marshalTraining(t *testing.T, c train.Config) string {
	t.Helper()
	a, err := agents.Learner(c.Algorithm)
	if err != nil {
		t.Fatal(err)
	}
	c.Learner = a.NewConfig()
	if n, ok := c.Sections[c.Algorithm]; ok {
		if err := yamldoc.DecodeNode(&n, c.Learner); err != nil {
			t.Fatal(err)
		}
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
