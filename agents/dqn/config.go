// Package dqn is Deep Q-Learning for environments with a discrete action space, written
// after CleanRL's dqn.py: a replay buffer, a target network, a Huber or squared TD loss,
// a linearly decaying epsilon-greedy exploration and Double DQN as an option; a warm
// start by imitation before it, after DQfD (Trainer.Imitate).
//
// Training is a step-wise loop (Trainer.Step) over an env.Env whose whole state lives
// in the Trainer, so a run can be checkpointed and resumed; the same seed gives the same
// networks bit for bit.
package dqn

import (
	"errors"
	"fmt"
	"io"

	"github.com/intelliscale/intelliscale/internal/yamldoc"

	"github.com/intelliscale/intelliscale/agents/nn"
)

// Config holds DQN's hyperparameters. Defaults are CleanRL dqn.py's (cleanrl/dqn.py,
// Args), except where noted.
type Config struct {
	// Seed seeds the run's generator (exploration, replay sampling, initial weights,
	// episode reset seeds). Default 1 (CleanRL: seed 1).
	Seed uint64 `yaml:"seed"`
	// TotalSteps is the planned number of environment steps; the exploration schedule
	// is a fraction of it. Default 500000 (CleanRL: total_timesteps).
	TotalSteps int `yaml:"total_steps" yamldoc:"nozero"`
	// LearningRate is Adam's step size. Default 2.5e-4 (CleanRL: learning_rate).
	LearningRate float64 `yaml:"learning_rate" yamldoc:"nozero"`
	// AdamEps is Adam's epsilon. Default 1e-8 (PyTorch's default, which CleanRL keeps).
	AdamEps float64 `yaml:"adam_eps" yamldoc:"nozero"`
	// BufferSize is the replay memory, in transitions. Default 10000 (CleanRL:
	// buffer_size).
	BufferSize int `yaml:"buffer_size" yamldoc:"nozero"`
	// Gamma is the discount factor, in [0, 1]. Default 0.99 (CleanRL: gamma).
	Gamma float64 `yaml:"gamma"`
	// Tau is the target network update rate in (0, 1]: target ← τ·online + (1−τ)·target.
	// Default 1, a hard copy (CleanRL: tau).
	Tau float64 `yaml:"tau" yamldoc:"nozero"`
	// TargetNetworkFrequency is the number of environment steps between target
	// updates. Default 500 (CleanRL: target_network_frequency).
	TargetNetworkFrequency int `yaml:"target_network_frequency" yamldoc:"nozero"`
	// BatchSize is the number of transitions per gradient step. Default 128 (CleanRL:
	// batch_size).
	BatchSize int `yaml:"batch_size" yamldoc:"nozero"`
	// StartE is the exploration probability at step 0. Default 1 (CleanRL: start_e).
	StartE float64 `yaml:"start_e"`
	// EndE is the exploration probability after the decay. Default 0.05 (CleanRL: end_e).
	EndE float64 `yaml:"end_e"`
	// ExplorationFraction is the fraction of TotalSteps over which epsilon falls
	// linearly from StartE to EndE, in (0, 1]. Default 0.5 (CleanRL:
	// exploration_fraction).
	ExplorationFraction float64 `yaml:"exploration_fraction" yamldoc:"nozero"`
	// LearningStarts is the number of environment steps before learning begins.
	// Default 10000 (CleanRL: learning_starts).
	LearningStarts int `yaml:"learning_starts"`
	// TrainFrequency is the number of environment steps between gradient steps.
	// Default 10 (CleanRL: train_frequency).
	TrainFrequency int `yaml:"train_frequency" yamldoc:"nozero"`
	// Hidden lists the hidden layer widths of the Q-network. Default [120, 84]
	// (CleanRL's QNetwork).
	Hidden []int `yaml:"hidden"`
	// Activation is the hidden layers' activation: relu, tanh or identity. Default relu
	// (CleanRL's QNetwork).
	Activation string `yaml:"activation"`
	// Loss is the TD loss: huber (smooth L1, δ = HuberDelta) or mse. Default huber, the
	// loss of the original DQN (Mnih et al. 2015); CleanRL uses mse.
	Loss string `yaml:"loss"`
	// HuberDelta is the Huber loss threshold, in return units. Default 1.
	HuberDelta float64 `yaml:"huber_delta" yamldoc:"nozero"`
	// MaxGradNorm clips the gradient's global L2 norm; 0 disables clipping. Default 0
	// (CleanRL does not clip).
	MaxGradNorm float64 `yaml:"max_grad_norm"`
	// DoubleDQN selects the next action with the online network and evaluates it with
	// the target network (van Hasselt et al. 2016). Default false (CleanRL: plain DQN).
	DoubleDQN bool `yaml:"double_dqn"`
}

// DefaultConfig returns CleanRL dqn.py's settings (with the Huber loss).
func DefaultConfig() Config {
	return Config{
		Seed:                   1,
		TotalSteps:             500_000,
		LearningRate:           2.5e-4,
		AdamEps:                1e-8,
		BufferSize:             10_000,
		Gamma:                  0.99,
		Tau:                    1,
		TargetNetworkFrequency: 500,
		BatchSize:              128,
		StartE:                 1,
		EndE:                   0.05,
		ExplorationFraction:    0.5,
		LearningStarts:         10_000,
		TrainFrequency:         10,
		Hidden:                 []int{120, 84},
		Activation:             "relu",
		Loss:                   "huber",
		HuberDelta:             1,
		MaxGradNorm:            0,
	}
}

// CartPoleConfig returns the settings used to solve CartPole-v1 within 100000 steps.
// It departs from DefaultConfig where CleanRL's schedule (tuned for 500000 steps) is too
// slow for that budget or where a cheaper gradient step does as well.
func CartPoleConfig() Config {
	c := DefaultConfig()
	c.TotalSteps = 100_000
	c.LearningStarts = 1_000    // start learning early: 10000 is a tenth of the budget
	c.ExplorationFraction = 0.1 // reach end_e after 10000 steps instead of 50000
	c.EndE = 0.01               // less noise once the policy is good
	c.LearningRate = 2.5e-3     // ten times CleanRL's: fewer gradient steps in the budget
	c.TrainFrequency = 4        // more gradient steps per environment step
	c.BatchSize = 64            // cheaper gradient steps
	c.BufferSize = 50_000       // keep early failures in memory longer
	c.Hidden = []int{64, 64}    // a third of the cost of 120-84, as good on CartPole
	return c
}

// Validate fills fields left at a zero value that is never valid (TotalSteps,
// LearningRate, AdamEps, BufferSize, Tau, TargetNetworkFrequency, BatchSize,
// ExplorationFraction, TrainFrequency, Hidden, Activation, Loss, HuberDelta) with their
// defaults, and rejects out-of-range values and bad combinations.
func (c *Config) Validate() error {
	d := DefaultConfig()
	fillInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	fillFloat := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	fillInt(&c.TotalSteps, d.TotalSteps)
	fillFloat(&c.LearningRate, d.LearningRate)
	fillFloat(&c.AdamEps, d.AdamEps)
	fillInt(&c.BufferSize, d.BufferSize)
	fillFloat(&c.Tau, d.Tau)
	fillInt(&c.TargetNetworkFrequency, d.TargetNetworkFrequency)
	fillInt(&c.BatchSize, d.BatchSize)
	fillFloat(&c.ExplorationFraction, d.ExplorationFraction)
	fillInt(&c.TrainFrequency, d.TrainFrequency)
	fillFloat(&c.HuberDelta, d.HuberDelta)
	if c.Hidden == nil {
		c.Hidden = append([]int(nil), d.Hidden...)
	}
	if c.Activation == "" {
		c.Activation = d.Activation
	}
	if c.Loss == "" {
		c.Loss = d.Loss
	}

	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, yamldoc.Invalid(field, v, want))
	}
	if c.TotalSteps < 0 {
		bad("total_steps", c.TotalSteps, "must be > 0")
	}
	if !(c.LearningRate > 0) {
		bad("learning_rate", c.LearningRate, "must be > 0")
	}
	if !(c.AdamEps > 0) {
		bad("adam_eps", c.AdamEps, "must be > 0")
	}
	if c.BufferSize < 0 || c.BufferSize > 100_000_000 {
		bad("buffer_size", c.BufferSize, "must be in [1, 1e8]")
	}
	if !(c.Gamma >= 0 && c.Gamma <= 1) {
		bad("gamma", c.Gamma, "must be in [0, 1]")
	}
	if !(c.Tau > 0 && c.Tau <= 1) {
		bad("tau", c.Tau, "must be in (0, 1]")
	}
	if c.TargetNetworkFrequency < 0 {
		bad("target_network_frequency", c.TargetNetworkFrequency, "must be > 0")
	}
	if c.BatchSize < 0 {
		bad("batch_size", c.BatchSize, "must be > 0")
	}
	if c.BatchSize > c.BufferSize {
		bad("batch_size", c.BatchSize, fmt.Sprintf("must be at most buffer_size (%d)", c.BufferSize))
	}
	if !(c.StartE >= 0 && c.StartE <= 1) {
		bad("start_e", c.StartE, "must be in [0, 1]")
	}
	if !(c.EndE >= 0 && c.EndE <= 1) {
		bad("end_e", c.EndE, "must be in [0, 1]")
	}
	if !(c.ExplorationFraction > 0 && c.ExplorationFraction <= 1) {
		bad("exploration_fraction", c.ExplorationFraction, "must be in (0, 1]")
	}
	if c.LearningStarts < 0 {
		bad("learning_starts", c.LearningStarts, "must be >= 0")
	}
	if c.TrainFrequency < 0 {
		bad("train_frequency", c.TrainFrequency, "must be > 0")
	}
	if len(c.Hidden) > nn.MaxLayers-1 {
		bad("hidden", c.Hidden, fmt.Sprintf("at most %d layers", nn.MaxLayers-1))
	}
	for i, h := range c.Hidden {
		if h < 1 || h > 1<<16 {
			bad(fmt.Sprintf("hidden[%d]", i), h, "must be in [1, 65536]")
		}
	}
	if _, err := nn.ParseActivation(c.Activation); err != nil {
		bad("activation", c.Activation, "want relu, tanh or identity")
	}
	if c.Loss != "huber" && c.Loss != "mse" {
		bad("loss", c.Loss, "want huber or mse")
	}
	if !(c.HuberDelta > 0) {
		bad("huber_delta", c.HuberDelta, "must be > 0")
	}
	if !(c.MaxGradNorm >= 0) {
		bad("max_grad_norm", c.MaxGradNorm, "must be >= 0 (0 disables clipping)")
	}
	return errors.Join(errs...)
}

// DecodeConfig reads a YAML config strictly (unknown keys are errors) over
// DefaultConfig and validates it. name identifies the source in errors, which name
// the line and field.
func DecodeConfig(r io.Reader, name string) (Config, error) {
	c := DefaultConfig()
	if err := yamldoc.LoadReader(r, name, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Epsilon is the exploration probability at an environment step: CleanRL's
// linear_schedule, falling from StartE to EndE over ExplorationFraction·TotalSteps
// steps, then flat.
func (c *Config) Epsilon(step int) float64 {
	duration := c.ExplorationFraction * float64(c.TotalSteps)
	slope := (c.EndE - c.StartE) / duration
	return max(slope*float64(step)+c.StartE, c.EndE)
}
