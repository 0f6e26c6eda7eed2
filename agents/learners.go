package agents

import (
	"fmt"
	"maps"
	"slices"

	"github.com/intelliscale/intelliscale/agents/dqn"
	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/ppo"
)

// learners are the training algorithms by name, as registry holds the rule policies.
// A new algorithm is one package exporting a learner.Algorithm and one line here;
// every list of algorithm names (configurations, policy files, experiment kinds)
// comes from this map.
var learners = map[string]func() learner.Algorithm{
	ppo.Name: ppo.Algorithm,
	dqn.Name: dqn.Algorithm,
}

// LearnerNames returns the registered training algorithms' names, sorted.
func LearnerNames() []string {
	return slices.Sorted(maps.Keys(learners))
}

// IsLearner reports whether name is a registered training algorithm.
func IsLearner(name string) bool {
	_, ok := learners[name]
	return ok
}

// Learner returns the training algorithm called name.
func Learner(name string) (learner.Algorithm, error) {
	f, ok := learners[name]
	if !ok {
		return learner.Algorithm{}, fmt.Errorf("agents: unknown training algorithm %q (known: %v)", name, LearnerNames())
	}
	return f(), nil
}

// Kinds returns every policy kind: the rule policies and the training algorithms,
// sorted.
func Kinds() []string {
	return slices.Sorted(slices.Values(append(Names(), LearnerNames()...)))
}
