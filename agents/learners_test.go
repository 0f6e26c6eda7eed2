package agents

import (
	"slices"
	"testing"
)

// TestLearners: every registered training algorithm is registered under its own
// name, its defaults validate once given a budget, and its progress columns are
// distinct and do not clash with the training loop's; the kinds are the rule
// policies and the algorithms, each once.
func TestLearners(t *testing.T) {
	if got := LearnerNames(); !slices.Equal(got, []string{"dqn", "ppo"}) {
		t.Errorf("LearnerNames() = %v", got)
	}
	loop := []string{"step", "episode_return", "episode_length", "slo_violation_share", "lagrange_multiplier", "steps_per_second"}
	for _, name := range LearnerNames() {
		a, err := Learner(name)
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != name || a.Doc == "" || a.New == nil || a.NewConfig == nil {
			t.Errorf("%s: algorithm %+v", name, a)
		}
		c := a.NewConfig()
		c.SetBudget(4096, 3)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: defaults do not validate: %v", name, err)
		}
		seen := map[string]bool{}
		for _, col := range append(slices.Clone(loop), a.Columns...) {
			if seen[col] {
				t.Errorf("%s: column %q twice", name, col)
			}
			seen[col] = true
		}
		if _, ok := Learner(name + "x"); ok == nil {
			t.Errorf("Learner(%q) found", name+"x")
		}
	}
	if IsLearner("hpa") || !IsLearner("ppo") {
		t.Error("IsLearner")
	}
	k := Kinds()
	if len(k) != len(Names())+len(LearnerNames()) || !slices.IsSorted(k) || len(slices.Compact(slices.Clone(k))) != len(k) {
		t.Errorf("Kinds() = %v", k)
	}
}
