package env

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env/features"
)

func TestActuatorTarget(t *testing.T) {
	pct, _ := NewActuator(ActionPercent, []int{-30, -5, 0, 10, 50}, Shield{}, features.Spec{})
	del, _ := NewActuator(ActionDelta, []int{-2, 0, 3}, Shield{}, features.Spec{})
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
		if got := c.a.Target(c.current, c.action, nil); got != c.want {
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
	a, err := NewActuator(ActionPercent, []int{-50, -20, -5, 0, 5, 20, 100}, s, features.Spec{})
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
		target := a.Target(current, action, nil)
		hist = append(hist, recommendation{at: now, n: target})
		want := slowDesired(hist, now, current, target, s, 1, 500)
		got := a.Desired(now, current, action, nil, 1, 500)
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
	if _, err := NewActuator("ratio", []int{1}, Shield{}, features.Spec{}); err == nil {
		t.Error("unknown mode accepted")
	}
	if _, err := NewActuator(ActionPercent, []int{-150}, Shield{}, features.Spec{}); err == nil {
		t.Error("-150% accepted")
	}
}

// TestActuatorTargetUtilisation: target mode is HPA's rule on the observation's
// utilisation and ready features, with its 10% tolerance.
func TestActuatorTargetUtilisation(t *testing.T) {
	spec := features.Default(0.5)
	a, err := NewActuator(ActionTarget, []int{50, 80}, Shield{}, spec)
	if err != nil {
		t.Fatal(err)
	}
	obs, set := observation(t, spec)
	set("ready", 2) // 20 replicas, divided by 10
	for _, c := range []struct {
		util    float64
		action  int
		current int
		want    int
	}{
		{0.8, 0, 20, 32},  // 20 * 0.8 / 0.5
		{0.8, 1, 20, 20},  // at target
		{0.85, 1, 20, 20}, // within tolerance
		{0.4, 1, 20, 10},  // 20 * 0.4 / 0.8
		{0.4, 0, 25, 16},  // from the ready replicas, not the count in force
	} {
		set("utilisation", c.util)
		if got := a.Target(c.current, c.action, obs); got != c.want {
			t.Errorf("utilisation %v target %d%% from %d: %d, want %d", c.util, a.Actions[c.action], c.current, got, c.want)
		}
	}
	if _, err := NewActuator(ActionTarget, []int{50}, Shield{}, features.Spec{}); err == nil {
		t.Error("target mode without the utilisation and ready features accepted")
	}
}

// TestActuatorForecast: forecast mode is target mode on the utilisation scaled by
// the forecast's growth over the observed rate, never by a fall, and plain target
// mode wherever the growth cannot be read.
func TestActuatorForecast(t *testing.T) {
	spec := features.Default(0.5)
	a, err := NewActuator(ActionForecast, []int{50, 80}, Shield{}, spec)
	if err != nil {
		t.Fatal(err)
	}
	obs, set := observation(t, spec)
	set("ready", 2) // 20 replicas
	for _, c := range []struct {
		util, rate, forecast float64
		action, want         int
	}{
		{0.8, 1, 1, 0, 32},           // flat: as target mode (20 * 0.8 / 0.5)
		{0.8, 1, 1.5, 0, 48},         // 50% growth: 20 * 0.8 * 1.5 / 0.5
		{0.8, 1, 0.5, 0, 32},         // a forecast fall is ignored
		{0.4, 1, 2, 1, 20},           // 20 * 0.4 * 2 / 0.8: at target
		{0.4, 1, 1.05, 1, 11},        // ceil(20 * 0.42 / 0.8 = 10.5), as HPA rounds
		{0.8, 0, 3, 0, 32},           // no rate: no growth read
		{0.8, 1, math.NaN(), 0, 32},  // no forecast
		{0.8, 1, math.Inf(1), 0, 32}, // not finite
		{0.8, math.Inf(1), 2, 0, 32}, // not finite
		{0.8, math.NaN(), 2, 0, 32},  // no rate
	} {
		set("utilisation", c.util)
		set("rate_per_ready", c.rate)
		set("forecast_per_ready", c.forecast)
		if got := a.Target(20, c.action, obs); got != c.want {
			t.Errorf("utilisation %v rate %v forecast %v target %d%%: %d, want %d", c.util, c.rate, c.forecast, a.Actions[c.action], got, c.want)
		}
	}
	// Without the rate features forecast mode is refused, naming them; target mode
	// does not need them.
	var noRate features.Spec
	for _, f := range spec.Features {
		if f.Name != "forecast_per_ready" {
			noRate.Features = append(noRate.Features, f)
		}
	}
	if _, err := NewActuator(ActionForecast, []int{50}, Shield{}, noRate); err == nil || !strings.Contains(err.Error(), "forecast_per_ready") {
		t.Errorf("forecast mode without forecast_per_ready: %v", err)
	}
	if _, err := NewActuator(ActionTarget, []int{50}, Shield{}, noRate); err != nil {
		t.Errorf("target mode without forecast_per_ready: %v", err)
	}
	if err := ValidateActions(ActionForecast, []int{0}); err == nil {
		t.Error("forecast target 0% accepted")
	}
}

// observation returns a zero observation of spec and a setter of its features by name.
func observation(t *testing.T, spec features.Spec) ([]float64, func(name string, v float64)) {
	obs := make([]float64, len(spec.Features))
	return obs, func(name string, v float64) {
		t.Helper()
		for i, f := range spec.Features {
			if f.Name == name {
				obs[i] = v
				return
			}
		}
		t.Fatalf("no feature %s", name)
	}
}

// TestActuatorHeadroomScale: the deploy-time knob multiplies every target's
// headroom (1 - target), within [MinTarget, 1], leaves the other modes alone, and
// 0 and 1 are the policy as trained.
func TestActuatorHeadroomScale(t *testing.T) {
	spec := features.Default(0.5)
	obs, set := observation(t, spec)
	set("ready", 2) // 20 replicas
	set("utilisation", 0.6)
	for _, c := range []struct {
		mode   string
		action int // of {40, 90}
		scale  float64
		want   int
	}{
		{ActionTarget, 0, 0, 30},     // 20 * 0.6 / 0.4
		{ActionTarget, 0, 1, 30},     // the same
		{ActionTarget, 0, 0.5, 18},   // target 1 - 0.5*0.6 = 0.7
		{ActionTarget, 0, 1.5, 120},  // target 0.1
		{ActionTarget, 0, 10, 1200},  // target 1 - 6, held at MinTarget 0.01
		{ActionTarget, 1, 2, 15},     // target 0.8
		{ActionTarget, 1, 0.5, 13},   // target 0.95
		{ActionTarget, 1, 0.01, 13},  // target 0.999, never above 1
		{ActionForecast, 0, 0.5, 18}, // no forecast growth in this observation
		{ActionDelta, 1, 2, 110},     // +90 replicas: no target to scale
	} {
		a, err := NewActuator(c.mode, []int{40, 90}, Shield{}, spec)
		if err != nil {
			t.Fatal(err)
		}
		a.HeadroomScale = c.scale
		if got := a.Target(20, c.action, obs); got != c.want {
			t.Errorf("%s action %d scale %v: %d, want %d", c.mode, c.action, c.scale, got, c.want)
		}
	}
	for _, c := range []struct {
		mode  string
		scale float64
		ok    bool
	}{
		{ActionTarget, 0, true}, {ActionTarget, 10, true}, {ActionForecast, 0.1, true},
		{ActionTarget, -1, false}, {ActionTarget, 10.5, false}, {ActionTarget, math.NaN(), false},
		{ActionTarget, math.Inf(1), false}, {ActionDelta, 1.2, false}, {ActionPercent, 1.2, false}, {ActionDelta, 0, true},
	} {
		if err := ValidateHeadroomScale(c.mode, c.scale); (err == nil) != c.ok {
			t.Errorf("ValidateHeadroomScale(%q, %v) = %v, want ok %v", c.mode, c.scale, err, c.ok)
		}
	}
}
