package experiments

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"gopkg.in/yaml.v3"
)

// recipes are the named training settings a learned policy can start from
// (train.recipe), by kind and name: a train block in YAML. "benchmark" is the
// settings of make bench-real's entry of that kind, every one chosen on validation
// windows (docs/learners.md); "zero-shot" is its ppo-zero-shot, trained on
// randomised synthetic traffic alone. TestRecipesMatchBenchmark keeps them equal to
// experiments/configs/real.yaml. A new recipe is one entry here.
var recipes = map[string]map[string]string{
	"ppo": {
		"benchmark": `
steps: 100000
params:
` + shieldedEnv + `
    slo_weight: 4
  selection: {every: 20000}
` + ppoWarm,
		"zero-shot": `
steps: 100000
traffic:
  random: {count: 8, seed: 11}
params:
` + shieldedEnv + `
    slo_weight: 4
    rate_scale: [0.5, 2]
` + ppoWarm,
	},
	"dqn": {
		"benchmark": `
steps: 100000
windows: true
traffic:
  random: {count: 8, seed: 11}
params:
` + shieldedEnv + `
    slo_weight: 2
  selection: {every: 20000}
  dqn:
    learning_rate: 0.00025
    learning_starts: 2000
    exploration_fraction: 0.2
    end_e: 0.01
    train_frequency: 4
    batch_size: 64
    buffer_size: 50000
    target_network_frequency: 1000
    gamma: 0.95
    double_dqn: true
    hidden: [64, 64]
`,
	},
}

// shieldedEnv is the environment every recipe trains in, but for its SLO weight:
// target utilisations as actions behind the 10-minute scale-down shield, on the
// fluid model (README, Learners).
const shieldedEnv = `  env:
    fidelity: fluid
    action_mode: target
    actions: [40, 50, 60, 70, 80, 90]
    shield: {scale_down_window: 10m, max_down_percent: 10}
    churn_weight: 3
    cost_weight: 1
    drop_weight: 2`

// ppoWarm is PPO's hyperparameters and its warm start from the oracle.
const ppoWarm = `  ppo: {learning_rate: 0.001, gamma: 0.95, normalize_obs: true}
  warm_start: {expert: oracle, params: {headroom: 0.2}, steps: 20000, epochs: 20}
`

// RecipeNames lists the recipes of a learned kind, sorted.
func RecipeNames(kind string) []string {
	return slices.Sorted(maps.Keys(recipes[kind]))
}

// applyRecipe lays b over its recipe (b.Recipe, for a policy of kind): steps,
// and traffic with windows, where b leaves them unset; params key by key, b's
// winning (yamldoc.Overlay). Idempotent, as Validate must be. Errors are
// FieldErrors relative to the train block.
func (b *TrainBudget) applyRecipe(kind string) error {
	text, ok := recipes[kind][b.Recipe]
	if !ok {
		names := RecipeNames(kind)
		if len(names) == 0 {
			return yamldoc.Invalid("recipe", b.Recipe, fmt.Sprintf("%s has no recipes", kind))
		}
		return yamldoc.Invalid("recipe", b.Recipe, fmt.Sprintf("want one of %s for %s", strings.Join(names, ", "), kind))
	}
	var r TrainBudget
	if err := yaml.Unmarshal([]byte(text), &r); err != nil {
		panic(fmt.Sprintf("experiments: recipe %s/%s: %v", kind, b.Recipe, err)) // a bug in this file
	}
	if b.Steps == 0 {
		b.Steps = r.Steps
	}
	if b.Traffic == nil {
		b.Traffic, b.Windows = r.Traffic, r.Windows
	}
	b.Params = *yamldoc.Overlay(&r.Params, &b.Params)
	return nil
}
