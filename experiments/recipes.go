package experiments

import "github.com/intelliscale/intelliscale/experiments/train"

// recipes are the named training settings a learned policy can start from
// (train.recipe), by kind and name: train.Recipes, which a stand-alone training
// config shares.
var recipes = train.Recipes

// RecipeNames lists the recipes of a learned kind, sorted.
func RecipeNames(kind string) []string {
	return train.RecipeNames(kind)
}

// applyRecipe lays b over its recipe (b.Recipe, for a policy of kind): steps,
// and traffic with windows, where b leaves them unset; params key by key, b's
// winning (train.Recipe.With). Idempotent, as Validate must be. Errors are
// FieldErrors relative to the train block.
func (b *TrainBudget) applyRecipe(kind string) error {
	r, err := train.LookupRecipe(kind, b.Recipe)
	if err != nil {
		return err
	}
	m := r.With(train.Recipe{Steps: b.Steps, Traffic: b.Traffic, Windows: b.Windows, Params: b.Params})
	b.Steps, b.Traffic, b.Windows, b.Params = m.Steps, m.Traffic, m.Windows, m.Params
	return nil
}
