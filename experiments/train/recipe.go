package train

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/experiments/configs"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/traces"
)

// Recipes are the named training settings a learned policy can start from (recipe:
// in a training config, train.recipe in an experiment's policy), by algorithm and
// name: the entry of experiments/configs/real.yaml (configs.Real) whose train block
// it is. "benchmark" is make bench-real's entry of that kind, every setting chosen
// on validation windows (docs/learners.md); "zero-shot" is its ppo-zero-shot,
// trained on randomised synthetic traffic alone. A new recipe is one entry here.
var Recipes = map[string]map[string]string{
	"ppo": {"benchmark": "ppo", "zero-shot": "ppo-zero-shot"},
	"dqn": {"benchmark": "dqn"},
}

// RecipeNames lists the recipes of an algorithm, sorted.
func RecipeNames(algorithm string) []string {
	return slices.Sorted(maps.Keys(Recipes[algorithm]))
}

// Recipe is a named starting point of a training: the train block of an entry of
// an experiment (steps, traffic with windows, and params: the keys of a training
// config other than those the experiment sets).
type Recipe struct {
	Steps   int             `yaml:"steps"`
	Traffic *traces.Traffic `yaml:"traffic,omitempty"`
	Windows bool            `yaml:"windows,omitempty"`
	Params  yaml.Node       `yaml:"params,omitempty"`
}

// LookupRecipe returns the recipe name of algorithm, decoded anew from
// configs.Real (the caller may keep and change it). An unknown name is a
// *yamldoc.FieldError at "recipe" that lists the algorithm's recipes.
func LookupRecipe(algorithm, name string) (Recipe, error) {
	if err := checkRecipe(algorithm, name); err != nil {
		return Recipe{}, err
	}
	entry := Recipes[algorithm][name]
	var doc struct {
		Policies []struct {
			Name  string  `yaml:"name"`
			Train *Recipe `yaml:"train"`
		} `yaml:"policies"`
	}
	if err := yaml.Unmarshal(configs.Real, &doc); err != nil {
		panic(fmt.Sprintf("train: configs/real.yaml: %v", err)) // embedded at build: a bug
	}
	for _, p := range doc.Policies {
		if p.Name == entry && p.Train != nil {
			return *p.Train, nil
		}
	}
	panic(fmt.Sprintf("train: configs/real.yaml has no trained entry %q", entry)) // a bug in Recipes
}

// checkRecipe is the error for a name that is not a recipe of algorithm, nil for
// one that is.
func checkRecipe(algorithm, name string) error {
	if _, ok := Recipes[algorithm][name]; ok {
		return nil
	}
	names := RecipeNames(algorithm)
	if len(names) == 0 {
		return yamldoc.Invalid("recipe", name, fmt.Sprintf("%s has no recipes", algorithm))
	}
	return yamldoc.Invalid("recipe", name, fmt.Sprintf("want one of %s for %s", strings.Join(names, ", "), algorithm))
}

// With lays the settings given beside a recipe over it, as an experiment's train
// block and a training config both do: given's steps unless 0, given's traffic
// (with its windows) unless nil, and params key by key, given's winning
// (yamldoc.Overlay: a mapping is merged, anything else replaced). Neither r nor
// given is changed; idempotent when r is laid under the result again.
func (r Recipe) With(given Recipe) Recipe {
	out := given
	if out.Steps == 0 {
		out.Steps = r.Steps
	}
	if out.Traffic == nil {
		out.Traffic, out.Windows = r.Traffic, r.Windows
	}
	out.Params = *yamldoc.Overlay(&r.Params, &given.Params)
	return out
}
