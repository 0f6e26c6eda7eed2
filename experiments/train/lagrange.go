package train

import (
	"fmt"
	"math"

	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// LagrangianConfig turns the SLO weight of the reward into a Lagrange multiplier λ
// learned by dual ascent, as in PPO-Lagrangian (Ray, Achiam and Amodei 2019,
// "Benchmarking Safe Exploration in Deep Reinforcement Learning"). PPO then trains on
//
//	r = -(CostWeight·billed/MaxReplicas + λ·violations/arrivals + DropWeight·dropped/arrivals)
//
// and after every update's rollout
//
//	λ <- max(0, λ + LearningRate·(violations/arrivals of the rollout - Budget))
//
// with the share taken over all the rollout's requests (all copies). λ starts at
// env.slo_weight. The zero value is off, and adds nothing to the configuration's hash.
type LagrangianConfig struct {
	// Enabled turns the multiplier on (on-policy algorithms only: ppo). Default false.
	Enabled bool `yaml:"enabled,omitempty"`
	// Budget is the share of requests allowed to violate the SLO (0.05 for a 95 %
	// target). A little below 1 - target leaves a margin for evaluation. Default
	// 1 - env.sim.slo.target (filled by Resolve); must be in (0, 1).
	Budget float64 `yaml:"budget,omitempty" yamldoc:"nozero" nozero:"a budget of no violations at all cannot be met; leave it out for 1 - env.sim.slo.target"`
	// LearningRate is the multiplier's step per update per unit of excess share: a
	// rollout 0.01 over budget raises λ by LearningRate/100. Default 1.
	LearningRate float64 `yaml:"learning_rate,omitempty" yamldoc:"nozero"`
}

// DefaultLagrangeLearningRate is LagrangianConfig.LearningRate's default. On the
// benchmark's setup one update's rollout (4 copies x 128 steps) measures a violation
// share anywhere from 0.01 to 0.1, so λ takes a noisy step every update: at 5 it
// random-walked between 0 and 21 over 150k steps, at 1 it settled near 1.9 on every
// seed while still moving by about 1 over a run when the share is 0.01 off budget.
const DefaultLagrangeLearningRate = 1

// validate fills LearningRate and rejects bad values when enabled; the budget's
// default needs the simulator's SLO and is filled by resolve.
func (c *LagrangianConfig) validate(alg learner.Algorithm) []error {
	if !c.Enabled {
		if *c != (LagrangianConfig{}) {
			return []error{yamldoc.Errorf("lagrangian", "budget or learning_rate set but enabled is false")}
		}
		return nil
	}
	var errs []error
	bad := func(field string, v any, why string) {
		errs = append(errs, yamldoc.Invalid("lagrangian."+field, v, why))
	}
	if !alg.OnPolicy {
		bad("enabled", true, fmt.Sprintf("only with an on-policy algorithm such as ppo (the multiplier is updated between rollouts), not %s", alg.Name))
	}
	if c.LearningRate == 0 {
		c.LearningRate = DefaultLagrangeLearningRate
	}
	if !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) {
		bad("learning_rate", c.LearningRate, "must be > 0 and finite")
	}
	if !(c.Budget >= 0 && c.Budget < 1) {
		bad("budget", c.Budget, "must be in (0, 1); leave it out for 1 - env.sim.slo.target")
	}
	return errs
}

// resolve fills the budget from the validated environment's SLO target.
func (c *LagrangianConfig) resolve(ec env.AutoscaleConfig) {
	if c.Enabled && c.Budget == 0 {
		c.Budget = 1 - ec.Sim.SLO.Target
	}
}

// UpdateMultiplier is one dual-ascent step: max(0, lambda + lr·(violations/arrivals -
// budget)). A rollout without arrivals measures nothing and leaves lambda unchanged.
func UpdateMultiplier(lambda, lr, budget, violations, arrivals float64) float64 {
	if !(arrivals > 0) {
		return lambda
	}
	return max(0, lambda+lr*(violations/arrivals-budget))
}

// ConstrainedReward is the environment's reward (env.Reward and env.ChurnPenalty)
// with the SLO weight replaced by lambda, computed from a step's Info.Extra
// (replicas, arrivals, violations, dropped, started). cfg must be validated.
func ConstrainedReward(cfg env.AutoscaleConfig, lambda float64, extra map[string]float64) float64 {
	cfg.SLOWeight = &lambda
	rc, rs, rd := env.Reward(cfg, extra["replicas"], int(extra["arrivals"]), int(extra["violations"]), int(extra["dropped"]))
	return -(rc + rs + rd + env.ChurnPenalty(cfg, int(extra["started"])))
}

// lagrangeEnv gives PPO the constrained reward and sums the arrivals and SLO
// violations of the rollout. Lambda changes only between updates (never during a
// rollout, when parallel workers step the copies), and the sums are cleared after
// each update, so at a checkpoint its state is the multiplier alone, which the
// checkpoint holds. It marshals as the replayEnv it wraps: a restored episode is
// replayed underneath it, without touching the sums.
type lagrangeEnv struct {
	*replayEnv
	cfg                  env.AutoscaleConfig
	lambda               float64
	arrivals, violations float64
}

func newLagrangeEnv(r *replayEnv, lambda float64) (*lagrangeEnv, error) {
	a, ok := r.Env.(*env.Autoscale)
	if !ok {
		return nil, fmt.Errorf("lagrangian: environment %T is not the autoscaling environment", r.Env)
	}
	return &lagrangeEnv{replayEnv: r, cfg: a.Config(), lambda: lambda}, nil
}

func (l *lagrangeEnv) Step(a int) ([]float64, float64, bool, bool, env.Info) {
	obs, _, term, trunc, info := l.replayEnv.Step(a)
	l.arrivals += info.Extra["arrivals"]
	l.violations += info.Extra["violations"]
	return obs, ConstrainedReward(l.cfg, l.lambda, info.Extra), term, trunc, info
}

// multiplier is the run's λ and the copies it applies to.
type multiplier struct {
	cfg    LagrangianConfig
	lambda float64
	envs   []*lagrangeEnv
	share  float64 // the last rollout's violation share (NaN when nothing arrived)
}

// update folds the rollout the copies just finished into λ and clears their sums.
func (m *multiplier) update() {
	var arr, vio float64
	for _, e := range m.envs {
		arr += e.arrivals
		vio += e.violations
		e.arrivals, e.violations = 0, 0
	}
	m.share = math.NaN()
	if arr > 0 {
		m.share = vio / arr
	}
	m.set(UpdateMultiplier(m.lambda, m.cfg.LearningRate, m.cfg.Budget, vio, arr))
}

func (m *multiplier) set(lambda float64) {
	m.lambda = lambda
	for _, e := range m.envs {
		e.lambda = lambda
	}
}
