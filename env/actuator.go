package env

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// Action modes: how an action's number changes the replica count in force.
const (
	// ActionDelta adds Actions[i] replicas (the default).
	ActionDelta = "delta"
	// ActionPercent changes the count by Actions[i] percent, rounded away from it and
	// by at least one replica when Actions[i] != 0, so that one policy acts alike at
	// 3 and at 300 replicas.
	ActionPercent = "percent"
	// ActionTarget makes Actions[i] a target utilisation in percent: the count is
	// Kubernetes HPA's ceil(ready * utilisation / target), unchanged within HPA's 10%
	// tolerance, from the observation's features "utilisation" and "ready". The
	// policy learns which target to hold when: residual learning on top of HPA,
	// scale-free by construction.
	ActionTarget = "target"
	// ActionForecast is ActionTarget on the utilisation expected at the forecast
	// request rate: the utilisation scaled by max(1, forecast/rate) from the
	// features "forecast_per_ready" and "rate_per_ready", so that the count is
	// provisioned for the larger of the rate observed and the rate forecast, as the
	// predictive rule does. The policy learns which target to hold over the
	// forecast: residual learning on top of the forecast, scale-free as target is.
	ActionForecast = "forecast"
)

// TargetTolerance is HPA's tolerance: no change while utilisation/target is within
// 1 ± TargetTolerance.
const TargetTolerance = 0.1

// Shield bounds a learned policy's decisions the way production autoscalers bound
// theirs. It is applied by Actuator, the one decision path of training (Autoscale),
// evaluation in the simulator (PolicyAutoscaler) and the live controller, and saved
// in the exported policy. The zero value is off.
type Shield struct {
	// ScaleDownWindow is Kubernetes HPA's scale-down stabilisation: a decision never
	// goes below the highest count recommended over the last ScaleDownWindow, so a
	// dip of one interval drains nothing a later one needs, and a scale-up is not
	// undone within the window. 0 (the default) is off. HPA's default is 5m.
	ScaleDownWindow time.Duration `yaml:"scale_down_window" json:"scale_down_window_seconds"`
	// MaxUpPercent bounds one decision's increase to this percent of the count in
	// force (at least one replica). 0 (the default) is unbounded. HPA allows 100%.
	MaxUpPercent float64 `yaml:"max_up_percent" json:"max_up_percent"`
	// MaxDownPercent bounds one decision's decrease likewise. 0 (the default) is
	// unbounded.
	MaxDownPercent float64 `yaml:"max_down_percent" json:"max_down_percent"`
}

// Validate rejects negative or non-finite bounds, as FieldErrors naming the key
// (within the shield: callers add its path).
func (s Shield) Validate() error {
	var errs []error
	if s.ScaleDownWindow < 0 {
		errs = append(errs, yamldoc.Invalid("scale_down_window", s.ScaleDownWindow, "must be at least 0 (0 is off)"))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"max_up_percent", s.MaxUpPercent}, {"max_down_percent", s.MaxDownPercent}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			errs = append(errs, yamldoc.Invalid(f.name, f.v, "must be finite and at least 0 (0 is unbounded)"))
		}
	}
	if s.MaxDownPercent > 100 {
		errs = append(errs, yamldoc.Invalid("max_down_percent", s.MaxDownPercent, "must be at most 100"))
	}
	return errors.Join(errs...)
}

// IsZero reports whether the shield is off.
func (s Shield) IsZero() bool { return s == Shield{} }

// ValidateActions checks an action mode and its action numbers.
func ValidateActions(mode string, actions []int) error {
	switch mode {
	case "", ActionDelta:
	case ActionPercent:
		for i, a := range actions {
			if a < -100 || a > 10000 {
				return fmt.Errorf("actions[%d] = %d: a percent change must be in [-100, 10000]", i, a)
			}
		}
	case ActionTarget, ActionForecast:
		for i, a := range actions {
			if a < 1 || a > 100 {
				return fmt.Errorf("actions[%d] = %d: a target utilisation must be in [1, 100] percent", i, a)
			}
		}
	default:
		return fmt.Errorf("action_mode %q: want %s, %s, %s or %s", mode, ActionDelta, ActionPercent, ActionTarget, ActionForecast)
	}
	return nil
}

// Actuator turns a policy's action index into the replica count to ask for: the
// action applied to the count in force (by Mode), then the Shield, then the bounds.
// It remembers the recommendations of the last Shield.ScaleDownWindow; Reset forgets
// them. It does not allocate once its memory has grown to a window's worth.
type Actuator struct {
	Mode    string
	Actions []int
	Shield  Shield
	// HeadroomScale multiplies the headroom (1 - target) of every action in target
	// and forecast modes: the target becomes 1 - HeadroomScale * (1 - target),
	// within [MinTarget, 1]. It is the deploy-time operating knob of a learned
	// policy, as target_utilization is HPA's: below 1 runs hotter and cheaper, above
	// 1 cooler, and every action keeps its place in the order of targets. 0 reads
	// as 1, the policy as trained. Ignored in the other modes.
	HeadroomScale float64
	recent        []recommendation // oldest first, within the window
	// Target and forecast modes: the observation indices of utilisation and ready,
	// and the scale the ready feature was divided by; forecast mode: the indices of
	// the rate and its forecast per ready replica (the same scale, so their ratio
	// needs none).
	util, ready        int
	readyScale         float64
	rate, forecastRate int
}

type recommendation struct {
	at time.Duration
	n  int
}

// NewActuator returns an actuator; mode "" means ActionDelta. spec is the
// observation's features; ActionTarget needs "utilisation" and "ready" among them,
// ActionForecast "rate_per_ready" and "forecast_per_ready" too.
func NewActuator(mode string, actions []int, shield Shield, spec features.Spec) (*Actuator, error) {
	if len(actions) == 0 {
		return nil, fmt.Errorf("env: actuator needs actions")
	}
	if err := ValidateActions(mode, actions); err != nil {
		return nil, fmt.Errorf("env: %w", err)
	}
	if err := shield.Validate(); err != nil {
		return nil, fmt.Errorf("env: %w", yamldoc.Within("shield", err))
	}
	if mode == "" {
		mode = ActionDelta
	}
	a := &Actuator{Mode: mode, Actions: append([]int(nil), actions...), Shield: shield, util: -1, ready: -1, rate: -1, forecastRate: -1}
	for i, f := range spec.Features {
		switch f.Name {
		case "utilisation":
			a.util = i
		case "ready":
			a.ready, a.readyScale = i, f.Scale
			if a.readyScale == 0 {
				a.readyScale = 1
			}
		case "rate_per_ready":
			a.rate = i
		case "forecast_per_ready":
			a.forecastRate = i
		}
	}
	if readsUtilisation(mode) && (a.util < 0 || a.ready < 0) {
		return nil, fmt.Errorf("env: action_mode %s needs the features utilisation and ready", mode)
	}
	if mode == ActionForecast && (a.rate < 0 || a.forecastRate < 0) {
		return nil, fmt.Errorf("env: action_mode %s needs the features rate_per_ready and forecast_per_ready", mode)
	}
	return a, nil
}

// Reset forgets the recommendations.
func (a *Actuator) Reset() { a.recent = a.recent[:0] }

// Target is the count action asks for from current, before the shield, given the
// observation obs (the features; read in target and forecast modes only): current
// itself for an index out of range.
func (a *Actuator) Target(current, action int, obs []float64) int {
	if action < 0 || action >= len(a.Actions) {
		return current
	}
	v := a.Actions[action]
	if readsUtilisation(a.Mode) {
		if a.util >= len(obs) || a.ready >= len(obs) {
			return current
		}
		ready := math.Round(obs[a.ready] * a.readyScale)
		u := obs[a.util]
		if !(ready >= 1) || math.IsNaN(u) {
			return current
		}
		if a.Mode == ActionForecast {
			u *= a.growth(obs)
		}
		r := u / a.target(v)
		if math.Abs(r-1) <= TargetTolerance {
			return current
		}
		return int(math.Ceil(ready*r - 1e-9))
	}
	if a.Mode != ActionPercent || v == 0 {
		return current + v
	}
	x := float64(current) * (1 + float64(v)/100)
	if v > 0 {
		return max(int(math.Ceil(x-1e-9)), current+1)
	}
	return max(0, min(int(math.Floor(x+1e-9)), current-1))
}

// target is an action's target utilisation as a fraction: v percent with its
// headroom scaled by HeadroomScale, within [MinTarget, 1].
func (a *Actuator) target(v int) float64 {
	t := float64(v) / 100
	if a.HeadroomScale > 0 {
		t = max(MinTarget, min(1, 1-a.HeadroomScale*(1-t)))
	}
	return t
}

// MinTarget is the lowest target utilisation a headroom scale can give (1%).
const MinTarget = 0.01

// ValidateHeadroomScale checks a headroom scale for an action mode: 0 (unset) or
// in (0, MaxHeadroomScale], and set only where the actions are target
// utilisations.
func ValidateHeadroomScale(mode string, scale float64) error {
	switch {
	case scale == 0:
		return nil
	case !(scale > 0 && scale <= MaxHeadroomScale):
		return fmt.Errorf("%v: must be in (0, %v]", scale, MaxHeadroomScale)
	case !readsUtilisation(mode):
		return fmt.Errorf("%v: only for action_mode %s or %s, not %q", scale, ActionTarget, ActionForecast, mode)
	}
	return nil
}

// MaxHeadroomScale is the largest HeadroomScale: at 10 every target below 90% is
// already MinTarget.
const MaxHeadroomScale = 10

// readsUtilisation reports whether mode's actions are target utilisations for
// HPA's rule, read from the observation's utilisation and ready features.
func readsUtilisation(mode string) bool { return mode == ActionTarget || mode == ActionForecast }

// growth is forecast mode's factor on the utilisation: max(1, forecast/rate), 1
// where either is missing, not finite or the rate is not positive.
func (a *Actuator) growth(obs []float64) float64 {
	if a.rate >= len(obs) || a.forecastRate >= len(obs) {
		return 1
	}
	r, f := obs[a.rate], obs[a.forecastRate]
	if !(r > 0) || math.IsInf(r, 0) || !(f > r) || math.IsInf(f, 0) {
		return 1
	}
	return f / r
}

// Desired is the count to ask for at time now (any clock, increasing) when current
// is in force and the policy chose action on observation obs, within [lo, hi] (hi
// <= 0: no upper bound).
func (a *Actuator) Desired(now time.Duration, current, action int, obs []float64, lo, hi int) int {
	n := a.Target(current, action, obs)
	if a.Shield.ScaleDownWindow > 0 {
		a.recent = append(a.recent[:0], a.window(now)...)
		a.recent = append(a.recent, recommendation{at: now, n: n})
	}
	return a.shield(a.recent, current, n, lo, hi)
}

// window is the remembered recommendations still within the scale-down window at
// now (a suffix of recent).
func (a *Actuator) window(now time.Duration) []recommendation {
	k := 0
	for k < len(a.recent) && a.recent[k].at <= now-a.Shield.ScaleDownWindow {
		k++
	}
	return a.recent[k:]
}

// shield bounds the recommendation n made with current in force: the scale-down
// window over the recommendations recent (within the window), the largest steps,
// then [lo, hi].
func (a *Actuator) shield(recent []recommendation, current, n, lo, hi int) int {
	s := a.Shield
	if s.ScaleDownWindow > 0 && n < current {
		top := n
		for _, r := range recent {
			top = max(top, r.n)
		}
		n = min(current, top)
	}
	if s.MaxUpPercent > 0 && n > current {
		n = min(n, current+max(1, int(math.Floor(float64(current)*s.MaxUpPercent/100+1e-9))))
	}
	if s.MaxDownPercent > 0 && n < current {
		n = max(n, current-max(1, int(math.Floor(float64(current)*s.MaxDownPercent/100+1e-9))))
	}
	if hi > 0 {
		n = min(n, hi)
	}
	return max(n, lo)
}
