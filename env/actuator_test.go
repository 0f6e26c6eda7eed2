package env

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestActuatorTarget(t *testing.T) {
	pct, _ := NewActuator(ActionPercent, []int{-30, -5, 0, 10, 50}, Shield{})
	del, _ := NewActuator(ActionDelta, []int{-2, 0, 3}, Shield{})
	for _, c := range []struct {
		a               *Actuator
		current, action int
		want            int
	}{
		{pct, 100, 0, 70}, {pct, 100, 1, 95}, {pct, 100, 2, 100}, {pct, 100, 3, 110}, {pct, 100, 4, 150},
		{pct, 3, 1, 2},                                  // -5% of 3 rounds away from 3: at least one replica
		{pct, 3, 3, 4},                                  // +10% of 3: 3.3, up to 4
		{pct, 1, 0, 0},                                  // -30% of 1
		{pct, 0, 3, 1},                                  // +10% of 0: one replica
		{pct, 0, 0, 0},                                  // never below 0
		{pct, 7, 9, 7},                                  // out of range: no change
		{pct, 7, -1, 7},                                 // out of range: no change
		{del, 5, 0, 3}, {del, 5, 2, 8}, {del, 1, 0, -1}, // Desired applies the bounds
	} {
		if got := c.a.Target(c.current, c.action); got != c.want {
			t.Errorf("%s Target(%d, %d) = %d, want %d", c.a.Mode, c.current, c.action, got, c.want)
		}
	}
}

// slowDesired is Actuator.Desired written the obvious way: scan every past
// recommendation.
func slowDesired(hist []recommendation, now time.Duration, current, target int, s Shield, lo, hi int) int {
	n := target
	if s.ScaleDownWindow > 0 && n < current {
		top := n
		for _, r := range hist {
			if r.at > now-s.ScaleDownWindow && r.n > top {
				top = r.n
			}
		}
		n = min(current, top)
	}
	if s.MaxUpPercent > 0 && n > current {
		n = min(n, current+max(1, int(float64(current)*s.MaxUpPercent/100+1e-9)))
	}
	if s.MaxDownPercent > 0 && n < current {
		n = max(n, current-max(1, int(float64(current)*s.MaxDownPercent/100+1e-9)))
	}
	return max(min(n, hi), lo)
}

// TestActuatorShieldMatchesSlowVersion drives the actuator with random actions and
// checks every decision against slowDesired, and that the shield does what it is
// for: no decision goes below a count recommended within the window, no step exceeds
// its bounds.
func TestActuatorShieldMatchesSlowVersion(t *testing.T) {
	s := Shield{ScaleDownWindow: 5 * time.Minute, MaxUpPercent: 100, MaxDownPercent: 10}
	a, err := NewActuator(ActionPercent, []int{-50, -20, -5, 0, 5, 20, 100}, s)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var hist []recommendation
	current, downs, ups := 20, 0, 0
	for k := range 5000 {
		now := time.Duration(k) * 15 * time.Second
		// Phases of mostly up and mostly down, so that the window both holds and
		// releases scale-downs.
		action := rng.IntN(3) // -50, -20, -5 %
		if (k/200)%2 == 0 {
			action = 3 + rng.IntN(4) // 0, 5, 20, 100 %
		}
		target := a.Target(current, action)
		hist = append(hist, recommendation{at: now, n: target})
		want := slowDesired(hist, now, current, target, s, 1, 500)
		got := a.Desired(now, current, action, 1, 500)
		if got != want {
			t.Fatalf("decision %d: %d from %d, slow version %d", k, got, current, want)
		}
		if got < current {
			downs++
			if current-got > max(1, current/10) {
				t.Fatalf("decision %d: down %d from %d, more than 10%%", k, current-got, current)
			}
		}
		if got > current {
			ups++
		}
		current = got
	}
	if downs == 0 || ups == 0 {
		t.Fatalf("%d downs, %d ups: the walk did not exercise the shield", downs, ups)
	}
	if len(a.recent) > 21 {
		t.Fatalf("memory of %d recommendations for a 5-minute window at 15 s", len(a.recent))
	}
}

func TestShieldValidate(t *testing.T) {
	for _, s := range []Shield{{ScaleDownWindow: -1}, {MaxUpPercent: -1}, {MaxDownPercent: 101}} {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if _, err := NewActuator("ratio", []int{1}, Shield{}); err == nil {
		t.Error("unknown mode accepted")
	}
	if _, err := NewActuator(ActionPercent, []int{-150}, Shield{}); err == nil {
		t.Error("-150% accepted")
	}
}
