package agents

import (
	"fmt"
	"math"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// ThresholdParams configure the threshold policy.
type ThresholdParams struct {
	// Upper utilisation (busy share of Ready worker slots, 0..1) above which the
	// policy scales up. Default 0.8.
	Upper float64 `yaml:"upper"`
	// Lower utilisation below which it scales down. Default 0.3; must be < upper.
	Lower float64 `yaml:"lower"`
	// Step is the replicas added or removed per action. Default 1.
	Step int `yaml:"step"`
	// StepPercent, when > 0, makes the step scale with the service: each action adds
	// or removes max(Step, ceil(StepPercent/100 x current replicas)). A fixed +1 at
	// 100 replicas takes an hour to follow a 20% rise. Default 0 (the fixed Step).
	StepPercent float64 `yaml:"step_percent"`
	// CooldownUp is the time after any scaling action before a scale-up. Default 60s.
	CooldownUp time.Duration `yaml:"cooldown_up"`
	// CooldownDown is the time after any scaling action before a scale-down.
	// Default 300s.
	CooldownDown time.Duration `yaml:"cooldown_down"`
}

// Threshold is the classic rule of cloud autoscaling groups: add Step replicas when
// utilisation is above Upper, remove Step when below Lower, and wait out a cooldown
// after every action.
type Threshold struct {
	p          ThresholdParams
	lastAction time.Duration
	acted      bool
}

func newThreshold(node *yaml.Node, ctx Context) (sim.Autoscaler, error) {
	p := ThresholdParams{Upper: 0.8, Lower: 0.3, Step: 1, CooldownUp: 60 * time.Second, CooldownDown: 300 * time.Second}
	if err := yamldoc.DecodeParams(node, &p); err != nil {
		return nil, err
	}
	switch {
	case !(p.Upper > 0 && p.Upper <= 1):
		return nil, yamldoc.Invalid("upper", p.Upper, "must be in (0, 1]")
	case !(p.Lower >= 0 && p.Lower < p.Upper):
		return nil, yamldoc.Invalid("lower", p.Lower, fmt.Sprintf("must be in [0, upper %v)", p.Upper))
	case p.Step < 1:
		return nil, yamldoc.Invalid("step", p.Step, "must be >= 1")
	case !(p.StepPercent >= 0 && p.StepPercent <= 100):
		return nil, yamldoc.Invalid("step_percent", p.StepPercent, "must be in [0, 100]")
	case p.CooldownUp < 0:
		return nil, yamldoc.Invalid("cooldown_up", p.CooldownUp, "must be >= 0")
	case p.CooldownDown < 0:
		return nil, yamldoc.Invalid("cooldown_down", p.CooldownDown, "must be >= 0")
	}
	return &Threshold{p: p}, nil
}

// Reset forgets the last action.
func (t *Threshold) Reset() { t.lastAction, t.acted = 0, false }

// Decide applies the rule.
func (t *Threshold) Decide(obs sim.Observation) int {
	cur := current(obs)
	if obs.Window <= 0 {
		return clamp(cur, obs) // no metric window yet (the decision at time zero)
	}
	want := cur
	step := t.p.Step
	if t.p.StepPercent > 0 {
		step = max(step, int(math.Ceil(t.p.StepPercent/100*float64(cur))))
	}
	since := obs.Time - t.lastAction
	switch {
	case obs.Ready == 0:
		// No Ready replica, no utilisation figure: hold.
	case obs.Utilisation > t.p.Upper && (!t.acted || since >= t.p.CooldownUp):
		want = cur + step
	case obs.Utilisation < t.p.Lower && (!t.acted || since >= t.p.CooldownDown):
		want = cur - step
	}
	want = clamp(want, obs)
	if want != cur {
		t.lastAction, t.acted = obs.Time, true
	}
	return want
}
