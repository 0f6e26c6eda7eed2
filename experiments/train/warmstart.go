package train

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// WarmStartFile is the warm start's report in a run directory: one row per epoch of
// each fit (see warmStartColumns).
const WarmStartFile = "warm_start.csv"

// WarmStartConfig is a warm start by imitation before reinforcement learning: the
// expert (a rule policy, typically the oracle, which knows the future) is rolled out
// in copies of the training environment, from the same episode seeds as the
// learner's first episodes; each observation is labelled with the environment's
// action closest in effect to the expert's decision (env.Actuator.Closest: in target
// mode, the target utilisation whose HPA count, after the shield, is nearest the
// expert's desired replicas), and the policy is fitted to the labels: PPO's actor by
// cross-entropy (behaviour cloning) and its value head on the expert's returns;
// DQN's Q-network by DQfD's large-margin loss plus a 1-step TD loss on the expert's
// transitions, which then pre-fill its replay buffer (Hester et al. 2018). The
// observation statistics (PPO's; DQN keeps none) are updated from the expert's
// observations first, so reinforcement learning goes on with the ones the clone was
// fitted under. DAggerRounds then roll out the learner's greedy policy, label its
// states with the expert and fit again on all the data (Ross, Gordon and Bagnell
// 2011). Nil (the section absent) is off; the warm start's environment steps are not
// counted in the training budget. Only algorithms that implement learner.Imitator
// accept it (ppo and dqn).
type WarmStartConfig struct {
	// Expert is the rule policy imitated, one of agents.Names (oracle, hpa, ...).
	// Required.
	Expert string `yaml:"expert"`
	// Params are the expert's parameters as for a rule policy (oracle: {headroom:
	// 0.1}). Default none: the policy's defaults.
	Params yaml.Node `yaml:"params,omitempty"`
	// Steps is the number of environment steps the expert is rolled out for (all
	// copies together). Default 20000.
	Steps int `yaml:"steps" yamldoc:"nozero"`
	// Epochs is the number of passes over the data in each fit. Default 10.
	Epochs int `yaml:"epochs" yamldoc:"nozero"`
	// LearningRate is Adam's step size in the fits (fresh moments). Default 0.001.
	LearningRate float64 `yaml:"learning_rate" yamldoc:"nozero"`
	// MinibatchSize is the number of steps per gradient step. Default 256.
	MinibatchSize int `yaml:"minibatch_size" yamldoc:"nozero"`
	// DAggerRounds is the number of DAgger rounds after the first fit. Default 0.
	DAggerRounds int `yaml:"dagger_rounds,omitempty"`
	// DAggerSteps is the number of environment steps of each DAgger round. Default
	// Steps/2.
	DAggerSteps int `yaml:"dagger_steps,omitempty" yamldoc:"nozero"`
}

// warmStartCopies is the number of environment copies the expert is rolled out in:
// PPO's default num_envs. Copy i starts from the same episode seed as the learner's
// copy i, so the expert's episodes are the first ones of the learner's first copies
// (DQN's one copy is copy 0).
const warmStartCopies = 4

// heldOutEvery: every heldOutEvery-th finished episode is held out of the fits and
// measures the clone's agreement with the expert on states it was not fitted on.
const heldOutEvery = 10

// validate fills defaults and rejects bad values (w nil: off).
func (w *WarmStartConfig) validate(alg learner.Algorithm) []error {
	if w == nil {
		return nil
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case w.Expert == "":
		add(yamldoc.Errorf("warm_start.expert", "required: a rule policy, one of %v", agents.Names()))
	case !slices.Contains(agents.Names(), w.Expert):
		add(yamldoc.Invalid("warm_start.expert", w.Expert, fmt.Sprintf("want a rule policy, one of %v", agents.Names())))
	}
	if !alg.Imitates {
		var can []string
		for _, n := range agents.LearnerNames() {
			if a, _ := agents.Learner(n); a.Imitates {
				can = append(can, n)
			}
		}
		add(yamldoc.Errorf("warm_start", "%s does not implement a warm start by imitation (algorithms that do: %v): remove warm_start", alg.Name, can))
	}
	if w.Steps == 0 {
		w.Steps = 20_000
	}
	if w.Epochs == 0 {
		w.Epochs = 10
	}
	if w.LearningRate == 0 {
		w.LearningRate = 0.001
	}
	if w.MinibatchSize == 0 {
		w.MinibatchSize = 256
	}
	if w.DAggerSteps == 0 {
		w.DAggerSteps = max(1, w.Steps/2)
	}
	add(yamldoc.InRange("warm_start.steps", w.Steps, 1, 100_000_000))
	add(yamldoc.InRange("warm_start.epochs", w.Epochs, 1, 10_000))
	if !(w.LearningRate > 0 && w.LearningRate <= 1) {
		add(yamldoc.Invalid("warm_start.learning_rate", w.LearningRate, "must be in (0, 1]"))
	}
	add(yamldoc.InRange("warm_start.minibatch_size", w.MinibatchSize, 1, 1_000_000))
	add(yamldoc.InRange("warm_start.dagger_rounds", w.DAggerRounds, 0, 100))
	add(yamldoc.InRange("warm_start.dagger_steps", w.DAggerSteps, 1, 100_000_000))
	return errs
}

// resolve checks the expert's parameters by building it on the first training
// trace (the environment validated).
func (w *WarmStartConfig) resolve(ec env.AutoscaleConfig) error {
	if w == nil || len(ec.Traces) == 0 {
		return nil
	}
	_, err := agents.New(w.Expert, &w.Params, agents.Context{Sim: ec.Sim, Trace: ec.Traces[0]})
	return yamldoc.Within("warm_start", err)
}

// warmStart imitates the expert with the freshly built learner l, before its first
// update, and writes warm_start.csv. When ctx is done during it, it returns ctx's
// error, between two minibatches of a fit at the latest, and writes nothing.
func (rs *runState) warmStart(l learner.Learner) error {
	w := rs.cfg.WarmStart
	im, ok := l.(learner.Imitator)
	if !ok {
		return fmt.Errorf("train: warm_start: %s learners do not imitate", rs.cfg.Algorithm)
	}
	ro, err := newExpertRollout(rs)
	if err != nil {
		return fmt.Errorf("train: warm_start: %w", err)
	}
	defer ro.vec.Close()
	polls := 0
	fit := learner.Imitation{Epochs: w.Epochs, LearningRate: w.LearningRate, MinibatchSize: w.MinibatchSize, Seed: rs.cfg.Seed,
		Interrupt: func() bool {
			stop := rs.ctx.Err() != nil
			polls++
			if f := rs.opt.warmStartFit; f != nil {
				f(polls)
			}
			return stop
		}}
	var train, held []learner.Demonstration
	var buf bytes.Buffer
	buf.WriteString("round,epoch,steps,loss,accuracy,held_out_accuracy,value_loss\n")
	for round := 0; round <= w.DAggerRounds; round++ {
		steps, act := w.Steps, (func([]float64) int)(nil)
		if round > 0 {
			p, err := rs.export(l)
			if err != nil {
				return fmt.Errorf("train: warm_start: %w", err)
			}
			steps, act = w.DAggerSteps, p.Act
		}
		t, h, err := ro.collect(steps, act)
		if err != nil {
			return fmt.Errorf("train: warm_start: %w", err)
		}
		for _, d := range slices.Concat(t, h) {
			im.Observe(d.Obs)
		}
		train, held = append(train, t...), append(held, h...)
		rows, err := im.Imitate(train, held, fit)
		if err := rs.ctx.Err(); err != nil {
			// Stopped in the fit, or done during the environments' reset that ends
			// it (PPO), which an interrupted simulator leaves in another state: the
			// learner is not what an uninterrupted run has, so it is not checkpointed.
			return err
		}
		if err != nil {
			return fmt.Errorf("train: warm_start: %w", err)
		}
		n := 0
		for _, d := range train {
			n += len(d.Actions)
		}
		for _, r := range rows {
			fmt.Fprintf(&buf, "%d,%d,%d,%s,%s,%s,%s\n", round, r.Epoch, n, csvFloat(r.Loss), csvFloat(r.Accuracy), csvFloat(r.HeldOutAccuracy), csvFloat(r.ValueLoss))
		}
	}
	return policy.WriteFileAtomic(filepath.Join(rs.dir, WarmStartFile), buf.Bytes())
}

// csvFloat writes v in the shortest exact form, NaN as empty.
func csvFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// expertRollout steps copies of the training environment, asking the expert for
// its decision before each step.
type expertRollout struct {
	rs       *runState
	envs     []*env.Autoscale
	vec      *env.Vector
	experts  []sim.Autoscaler
	obs      []float64 // the copies' current observations
	cur      []learner.Demonstration
	finished int // episodes finished so far
	taken    int // environment steps taken so far
}

func newExpertRollout(rs *runState) (*expertRollout, error) {
	ro := &expertRollout{rs: rs, experts: make([]sim.Autoscaler, warmStartCopies), cur: make([]learner.Demonstration, warmStartCopies)}
	envs := make([]env.Env, warmStartCopies)
	for i := range envs {
		a, err := env.NewAutoscale(rs.cfg.Env)
		if err != nil {
			return nil, err
		}
		ro.envs, envs[i] = append(ro.envs, a), a
	}
	vec, err := env.NewVector(envs, false)
	if err != nil {
		return nil, err
	}
	ro.vec = vec
	obs, _ := vec.Reset(rs.cfg.Seed)
	ro.obs = append([]float64(nil), obs...)
	for i := range envs {
		if err := ro.newExpert(i); err != nil {
			vec.Close()
			return nil, err
		}
	}
	return ro, nil
}

// newExpert builds the expert for copy i's current episode (its window of traffic).
func (ro *expertRollout) newExpert(i int) error {
	w := ro.rs.cfg.WarmStart
	e, err := agents.New(w.Expert, &w.Params, agents.Context{Sim: ro.rs.cfg.Env.Sim, Trace: ro.envs[i].Window()})
	if err != nil {
		return fmt.Errorf("expert %s: %w", w.Expert, err)
	}
	ro.experts[i] = e
	return nil
}

// collect steps the copies for at least steps environment steps (a whole number
// of steps of all copies), labelling every observation with the expert's action;
// act chooses the action taken (nil: the expert's). It returns the episodes that
// ended, split into those to fit on and those held out, with the episodes still
// running cut off at the end (a copy's next collect goes on from where it stopped,
// as a new piece).
func (ro *expertRollout) collect(steps int, act func(obs []float64) int) (train, held []learner.Demonstration, err error) {
	n := len(ro.envs)
	d := len(ro.obs) / n
	actions := make([]int, n)
	keep := func(dm learner.Demonstration) {
		if ro.finished%heldOutEvery == heldOutEvery-1 {
			held = append(held, dm)
		} else {
			train = append(train, dm)
		}
		ro.finished++
	}
	for taken := 0; taken < steps; taken += n {
		if err := ro.rs.ctx.Err(); err != nil {
			return nil, nil, err
		}
		for i, e := range ro.envs {
			o := ro.obs[i*d : (i+1)*d]
			label := e.ExpertAction(ro.experts[i].Decide(e.LastObservation()))
			c := &ro.cur[i]
			c.Obs, c.Actions = append(c.Obs, o...), append(c.Actions, label)
			c.Expert = act == nil
			actions[i] = label
			if act != nil {
				actions[i] = act(o)
			}
		}
		obs, rewards, term, trunc, _, err := ro.vec.Step(actions)
		if err != nil {
			return nil, nil, err
		}
		if err := ro.rs.ctx.Err(); err != nil {
			return nil, nil, err // a step may have been interrupted
		}
		copy(ro.obs, obs)
		ro.taken += n
		if f := ro.rs.opt.warmStartStep; f != nil {
			f(ro.taken)
		}
		for i := range ro.envs {
			c := &ro.cur[i]
			// The rewards are those of the environment's reward with the configured
			// SLO weight, which is also PPO-Lagrangian's reward at its first update.
			c.Rewards = append(c.Rewards, rewards[i])
			if term[i] || trunc[i] {
				c.Truncated = !term[i]
				keep(*c)
				*c = learner.Demonstration{}
				if err := ro.newExpert(i); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	for i := range ro.cur {
		if len(ro.cur[i].Actions) > 0 {
			ro.cur[i].Truncated = true
			keep(ro.cur[i])
			ro.cur[i] = learner.Demonstration{}
		}
	}
	return train, held, nil
}
