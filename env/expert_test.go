package env

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env/features"
)

// targetObs is an observation of the default features with utilisation util and
// ready replicas (the ready feature is divided by its scale, 10).
func targetObs(spec features.Spec, util float64, ready int) []float64 {
	obs := make([]float64, len(spec.Features))
	for i, f := range spec.Features {
		switch f.Name {
		case "utilisation":
			obs[i] = util
		case "ready":
			obs[i] = float64(ready) / f.Scale
		}
	}
	return obs
}

// TestClosestOnConstructedStates: the expert's desired count becomes the action
// whose shielded count is nearest it, ties broken by the count before the shield.
func TestClosestOnConstructedStates(t *testing.T) {
	spec := features.Default(1)
	targets := []int{40, 50, 60, 70, 80, 90}
	plain, err := NewActuator(ActionTarget, targets, Shield{}, spec)
	if err != nil {
		t.Fatal(err)
	}
	gradual, _ := NewActuator(ActionTarget, targets, Shield{MaxDownPercent: 10}, spec)
	windowed, _ := NewActuator(ActionTarget, targets, Shield{ScaleDownWindow: 5 * time.Minute}, spec)
	// A recommendation of 25 a minute ago holds every scale-down at the count in force.
	windowed.Desired(0, 20, 0, targetObs(spec, 0.5, 20), 1, 300)
	delta, _ := NewActuator(ActionDelta, []int{-3, -2, -1, 0, 1, 2, 3}, Shield{}, spec)
	pct, _ := NewActuator(ActionPercent, []int{-30, -15, -5, 0, 10, 25, 50}, Shield{}, spec)
	obs := targetObs(spec, 0.6, 20) // 20 ready at 60%: target t asks for ceil(20*0.6/t)
	for _, c := range []struct {
		name    string
		a       *Actuator
		current int
		hi      int
		want    int
		action  int // index
	}{
		{"target: HPA at 50% gives 24", plain, 20, 300, 24, 1},
		{"target: at 60% within tolerance, the count in force", plain, 20, 300, 20, 2},
		{"target: 70% gives 18", plain, 20, 300, 18, 3},
		{"target: 40% (30) is nearest a surge to 40", plain, 20, 300, 40, 0},
		{"target: the upper bound 22 makes 40% and 50% equal; 50% asks for 24, nearer 23", plain, 20, 22, 23, 1},
		{"target: at most 10% down, 70/80/90% all give 18; 90% asks for 14, nearest 10", gradual, 20, 300, 10, 5},
		{"target: the window holds every scale-down at 20; 90% asks for 14, nearest 10", windowed, 20, 300, 10, 5},
		{"delta: +2", delta, 10, 300, 12, 5},
		{"delta: a surge gets the largest step", delta, 10, 300, 30, 6},
		{"delta: bounded at 11, +1 +2 +3 equal; +2 asks for 12", delta, 10, 11, 12, 5},
		{"percent: +25% (125) is nearer 120 than +10% (110)", pct, 100, 300, 120, 5},
		{"percent: -5% (95) nearest 96", pct, 100, 300, 96, 2},
	} {
		now := time.Minute
		if got := c.a.Closest(now, c.current, obs, 1, c.hi, c.want); got != c.action {
			t.Errorf("%s: action %d (%d), want %d (%d)", c.name, got, c.a.Actions[got], c.action, c.a.Actions[c.action])
		}
	}
}

// TestClosestIsNearestDecision checks Closest against the obvious version on the
// states of a random walk: take every action on a copy of the actuator and keep the
// nearest decision; and that Closest leaves the shield's memory as it was.
func TestClosestIsNearestDecision(t *testing.T) {
	spec := features.Default(1)
	s := Shield{ScaleDownWindow: 2 * time.Minute, MaxUpPercent: 50, MaxDownPercent: 10}
	a, err := NewActuator(ActionTarget, []int{40, 50, 60, 70, 80, 90}, s, spec)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	current, ups, downs, held := 20, 0, 0, 0
	for k := range 3000 {
		now := time.Duration(k) * 15 * time.Second
		// Phases of high and of low utilisation, so that the shield both holds and
		// releases.
		util := 0.6 + 0.4*rng.Float64()
		if (k/100)%2 == 1 {
			util = 0.1 + 0.4*rng.Float64()
		}
		obs := targetObs(spec, util, max(1, current-rng.IntN(3)))
		want := max(1, current+rng.IntN(21)-10)
		before := slices.Clone(a.recent)
		got := a.Closest(now, current, obs, 1, 100, want)
		if !slices.Equal(before, a.recent) {
			t.Fatalf("decision %d: Closest changed the shield's memory", k)
		}
		best, bestN := -1, 0
		for i := range a.Actions {
			cp := *a
			cp.recent = slices.Clone(a.recent)
			n := cp.Desired(now, current, i, obs, 1, 100)
			if best < 0 || absDiff(n, want) < absDiff(bestN, want) {
				best, bestN = i, n
			}
		}
		cp := *a
		cp.recent = slices.Clone(a.recent)
		if n := cp.Desired(now, current, got, obs, 1, 100); absDiff(n, want) != absDiff(bestN, want) {
			t.Fatalf("decision %d: Closest chose %d%% (%d replicas) for %d, but %d%% gives %d", k, a.Actions[got], n, want, a.Actions[best], bestN)
		}
		// The walk goes on with a random action.
		action := rng.IntN(len(a.Actions))
		n := a.Desired(now, current, action, obs, 1, 100)
		switch {
		case n > current:
			ups++
		case n < current:
			downs++
		case a.Target(current, action, obs) < current:
			held++
		}
		current = n
	}
	if ups < 100 || downs < 100 || held < 100 {
		t.Fatalf("%d ups, %d downs, %d held: the walk did not exercise the shield", ups, downs, held)
	}
}
