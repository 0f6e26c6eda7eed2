// Package learner is the interface every training algorithm implements (PPO, DQN,
// and whatever comes next), so that one training loop, one checkpoint format and one
// progress writer (experiments/train) serve them all. An algorithm is one package
// exporting an Algorithm; the agents package registers it by name.
package learner

import (
	"github.com/intelliscale/intelliscale/env"
)

// Algorithm describes one training algorithm: its name, its hyperparameters and how
// to build a Learner from them. It is plain data, registered in agents.Learners.
type Algorithm struct {
	// Name is the algorithm's name in configurations and policy files (ppo, dqn); its
	// hyperparameters are the configuration section of the same name.
	Name string
	// Doc is a one-line description for help texts.
	Doc string
	// NewConfig returns the algorithm's hyperparameters at their defaults.
	NewConfig func() Config
	// Columns name the figures Report.Values holds, in order: the algorithm's own
	// progress.csv columns (losses/..., charts/... in CleanRL's terms, written in
	// snake case: policy_loss, td_loss, epsilon).
	Columns []string
	// OnPolicy is set when one Update is a whole rollout followed by learning on it,
	// so that the reward may change between updates (PPO-Lagrangian's multiplier).
	OnPolicy bool
	// Imitates is set when the algorithm's learners implement Imitator (a warm start
	// by imitating a rule policy).
	Imitates bool
	// New builds a learner from validated hyperparameters for a run.
	New func(cfg Config, run Run) (Learner, error)
}

// Config is an algorithm's hyperparameters (a pointer to its Config struct, decoded
// strictly from YAML).
type Config interface {
	// SetBudget sets the run's training budget in environment steps (all copies) and
	// its seed, which the training configuration gives for every algorithm.
	SetBudget(steps int, seed uint64)
	// Validate fills defaults and rejects bad values, naming the field.
	Validate() error
}

// Canonicaler is implemented by a Config with fields that do not change the trained
// policy (parallel stepping, say): Canonical returns a copy with them at fixed
// values, for the configuration hash that decides whether a checkpoint may resume.
type Canonicaler interface {
	Canonical() Config
}

// Run is what a learner trains on.
type Run struct {
	// NewEnv builds environment copy i. Copies implement encoding.BinaryMarshaler and
	// BinaryUnmarshaler (the training loop's replay wrapper), which a learner's
	// Snapshot and Restore use for the environments' state.
	NewEnv func(i int) env.Env
}

// Learner is one training run of an algorithm, advanced by its caller (the training
// loop) one Update at a time. It uses no clock and no global random source: the same
// configuration gives the same bytes.
type Learner interface {
	// Update advances training by one unit of the algorithm (a PPO rollout and its
	// minibatch epochs; one DQN environment step) and reports on it.
	Update() Report
	// Done reports whether the budget is spent.
	Done() bool
	// Steps is the number of environment steps taken so far (all copies).
	Steps() int
	// Snapshot encodes the whole training state between updates (networks,
	// optimisers, statistics, generators, counters, environments' state) as a
	// self-describing section: it starts with the algorithm's name and format version.
	Snapshot() ([]byte, error)
	// Restore overwrites a freshly built learner's state with a Snapshot of the same
	// configuration; training then goes on exactly as it would have.
	Restore(b []byte) error
	// Export returns the greedy policy as it stands.
	Export() Model
	// Close releases workers (environment goroutines).
	Close()
}

// Report is what one Update tells the training loop.
type Report struct {
	// Row asks for a progress.csv row for this update (PPO: every update; DQN: the
	// steps that end an episode).
	Row bool
	// Episodes lists the episodes that ended during the update.
	Episodes []Episode
	// Values holds one figure per Algorithm.Columns entry; NaN is written empty.
	Values []float64
}

// Episode is one finished episode's undiscounted return and length in steps.
type Episode struct {
	Return float64
	Length int
}

// Model is an exported greedy policy: a fully connected network (nn.MLP's parameter
// layout) whose argmax is the action, and the frozen observation statistics.
type Model struct {
	Sizes      []int
	Activation string
	Params     []float64
	// Normaliser is nil when the network takes raw observations.
	Normaliser *Normaliser
}

// Normaliser is env.RunningMeanStd frozen: z = (x - Mean) / sqrt(Var + 1e-8),
// clipped to [-Clip, Clip] when Clip > 0.
type Normaliser struct {
	Mean, Var []float64
	Count     float64
	Clip      float64
}
