package learner

import "errors"

// ErrInterrupted is Imitate's error when Imitation.Interrupt stopped the fit.
var ErrInterrupted = errors.New("imitation interrupted")

// Imitator is implemented by a Learner that can be warm-started by imitation
// (behaviour cloning, optionally DAgger rounds) before reinforcement learning: the
// training loop rolls out an expert (a rule policy) in the training environments,
// labels every observation with the expert's action, and hands the episodes over.
// An algorithm whose learners implement it sets Algorithm.Imitates.
type Imitator interface {
	// Observe folds raw observations (rows of the observation's dimension) into the
	// learner's observation statistics, as its own rollouts would, so that the
	// statistics the imitation fits under are the ones reinforcement learning then
	// goes on with.
	Observe(obs []float64)
	// Imitate fits the policy to the expert's actions on train by cross-entropy (and
	// whatever else the algorithm needs not to undo the fit at its first update, such
	// as PPO's value head on the expert's returns), measuring agreement on heldOut
	// too. It reports one row before fitting (Epoch 0) and one per epoch. It leaves
	// the learner ready to Update, its step count unchanged; when c.Interrupt stops
	// it, it returns ErrInterrupted and the learner is half fitted (discard it).
	Imitate(train, heldOut []Demonstration, c Imitation) ([]ImitationEpoch, error)
}

// Demonstration is one episode of the imitation data: the raw observations of its
// steps, the expert's action at each (an index into the environment's actions) and
// the rewards of the actions that were taken.
type Demonstration struct {
	// Obs holds one raw observation per step, row after row.
	Obs []float64
	// Actions are the expert's labels, one per step.
	Actions []int
	// Rewards are the rewards of the steps as taken; they are the expert's own
	// returns only when Expert is set.
	Rewards []float64
	// Expert is set when the expert took the actions (not the learner, as in a
	// DAgger round), so that the rewards are the expert's.
	Expert bool
	// Truncated is set when the episode was cut off rather than terminated at its
	// last step (its value there is not zero).
	Truncated bool
}

// Imitation configures one fit.
type Imitation struct {
	// Epochs is the number of passes over the data.
	Epochs int
	// LearningRate is Adam's step size (fresh moments: reinforcement learning starts
	// with its own).
	LearningRate float64
	// MinibatchSize is the number of steps per gradient step.
	MinibatchSize int
	// Seed orders the minibatches.
	Seed uint64
	// Interrupt, when set, is asked before every minibatch; true stops the fit
	// (Imitate returns ErrInterrupted), so that a Ctrl-C does not wait for it.
	Interrupt func() bool
}

// Interrupted reports whether c.Interrupt asks the fit to stop.
func (c Imitation) Interrupted() bool { return c.Interrupt != nil && c.Interrupt() }

// ImitationEpoch is one row of the imitation's report.
type ImitationEpoch struct {
	Epoch int
	// Loss is the mean imitation loss over train (after the epoch): the
	// cross-entropy of the expert's actions for a policy network (PPO), the large-
	// margin loss for a Q-network (DQN); ValueLoss is the value fit's loss on the
	// expert's episodes (PPO's value head on the returns, DQN's 1-step TD loss; NaN
	// when the algorithm fits none).
	Loss, ValueLoss float64
	// Accuracy and HeldOutAccuracy are the shares of steps of train and heldOut
	// where the greedy action is the expert's (NaN when heldOut is empty).
	Accuracy, HeldOutAccuracy float64
}
