package experiments

import (
	_ "embed"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"gopkg.in/yaml.v3"
)

// benchmarkConfig is make bench-real's experiment, whose learned entries' train
// blocks are the recipes.
//
//go:embed configs/real.yaml
var benchmarkConfig []byte

// recipes are the named training settings a learned policy can start from
// (train.recipe), by kind and name: the entry of configs/real.yaml whose train
// block it is. "benchmark" is make bench-real's entry of that kind, every setting
// chosen on validation windows (docs/learners.md); "zero-shot" is its
// ppo-zero-shot, trained on randomised synthetic traffic alone. A new recipe is
// one entry here.
var recipes = map[string]map[string]string{
	"ppo": {"benchmark": "ppo", "zero-shot": "ppo-zero-shot"},
	"dqn": {"benchmark": "dqn"},
}

// RecipeNames lists the recipes of a learned kind, sorted.
func RecipeNames(kind string) []string {
	return slices.Sorted(maps.Keys(recipes[kind]))
}

// recipe is the train block of the benchmark's entry named entry, decoded anew
// (the caller may keep and change it).
func recipe(entry string) TrainBudget {
	var doc struct {
		Policies []struct {
			Name  string       `yaml:"name"`
			Train *TrainBudget `yaml:"train"`
		} `yaml:"policies"`
	}
	if err := yaml.Unmarshal(benchmarkConfig, &doc); err != nil {
		panic(fmt.Sprintf("experiments: configs/real.yaml: %v", err)) // embedded at build: a bug
	}
	for _, p := range doc.Policies {
		if p.Name == entry && p.Train != nil {
			return *p.Train
		}
	}
	panic(fmt.Sprintf("experiments: configs/real.yaml has no trained entry %q", entry)) // a bug in recipes
}

// applyRecipe lays b over its recipe (b.Recipe, for a policy of kind): steps,
// and traffic with windows, where b leaves them unset; params key by key, b's
// winning (yamldoc.Overlay). Idempotent, as Validate must be. Errors are
// FieldErrors relative to the train block.
func (b *TrainBudget) applyRecipe(kind string) error {
	entry, ok := recipes[kind][b.Recipe]
	if !ok {
		names := RecipeNames(kind)
		if len(names) == 0 {
			return yamldoc.Invalid("recipe", b.Recipe, fmt.Sprintf("%s has no recipes", kind))
		}
		return yamldoc.Invalid("recipe", b.Recipe, fmt.Sprintf("want one of %s for %s", strings.Join(names, ", "), kind))
	}
	r := recipe(entry)
	if b.Steps == 0 {
		b.Steps = r.Steps
	}
	if b.Traffic == nil {
		b.Traffic, b.Windows = r.Traffic, r.Windows
	}
	b.Params = *yamldoc.Overlay(&r.Params, &b.Params)
	return nil
}
