// Package policy is the exported form of a trained autoscaling policy: the network,
// the frozen observation statistics, the feature and action definitions it was
// trained with, and metadata, in a versioned, checksummed JSON file. Loading
// validates every field and dimension, so a corrupt or hostile file gets an error,
// never a panic or a large allocation.
package policy

import (
	"fmt"
	"math"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/env/features"
)

// Version is the policy file format written by Save and the only one Read accepts.
const Version = 1

// Limits checked before anything proportional to them is allocated.
const (
	// MaxFileBytes is the largest policy file Read and Load accept (16 MiB).
	MaxFileBytes = 16 << 20
	// MaxParams is the largest number of network parameters.
	MaxParams = 1 << 18
	// MaxLayerSize is the largest layer width, input and output included.
	MaxLayerSize = 4096
	// MaxLayers is the largest number of weight layers.
	MaxLayers = 16
	// MaxActions is the largest number of actions.
	MaxActions = 1024
	// MaxFeatures is the largest number of features.
	MaxFeatures = 1024
	// MaxBuildBytes is the longest Training.Build.
	MaxBuildBytes = 1024
)

// Policy is a trained policy ready to act. Act is the only method needing the
// network's workspaces; everything else is plain data.
type Policy struct {
	// Version of the file format (Version).
	Version int
	// Algorithm that trained the network, one of agents.LearnerNames (ppo: the
	// actor, whose logits are argmaxed; dqn: the Q-network, whose values are).
	Algorithm string
	// Network maps a (normalised) observation to one score per action.
	Network Network
	// Normaliser holds the frozen observation statistics; nil when the network takes
	// the features as they are.
	Normaliser *Normaliser
	// Features define the observation, in order (one network input each).
	Features features.Spec
	// Actions[i] is the change action i asks for (one network output each): replicas
	// (ActionMode delta) or percent of the count in force (percent).
	Actions []int
	// ActionMode is env.ActionDelta ("" reads as delta), env.ActionPercent,
	// env.ActionTarget or env.ActionForecast.
	ActionMode string
	// Shield bounds every decision as in training (env.Shield; zero: off).
	Shield env.Shield
	// HeadroomScale multiplies the headroom (1 - target) of every target
	// utilisation in target and forecast modes (env.Actuator.HeadroomScale): the
	// policy's deploy-time operating point, set at export or by an experiment's
	// sweep, never in training. 0 (the default) is the policy as trained.
	HeadroomScale float64
	// Sim describes the simulated service the policy was trained on.
	Sim SimInfo
	// Training records how the policy was trained (no wall-clock times, so that the
	// same configuration gives the same file).
	Training TrainingInfo
	// Checksum is "sha256:" and the hex SHA-256 of the canonical JSON encoding of the
	// policy with Checksum empty. Save sets it; Read verifies it.
	Checksum string

	mlp *nn.MLP
	x   []float64
}

// Network is a fully connected network in nn.MLP's parameter layout.
type Network struct {
	// Sizes are the layer widths, input first.
	Sizes []int
	// Activation after every hidden layer: tanh, relu or identity.
	Activation string
	// Params are the weights and biases, layer by layer (W out×in row-major, then b).
	Params []float64
}

// Normaliser standardises an observation as training did:
// z = (x - Mean) / sqrt(Var + 1e-8), clipped to [-Clip, Clip] when Clip > 0.
type Normaliser struct {
	Mean, Var []float64
	// Count is the number of observations the statistics summarise.
	Count float64
	Clip  float64
}

// normEpsilon is the variance epsilon of env.RunningMeanStd.Normalize.
const normEpsilon = 1e-8

// SimInfo is the part of the simulator configuration a policy depends on.
type SimInfo struct {
	// ControlInterval between decisions, in seconds (the features' cadence).
	ControlIntervalSeconds float64
	// ScrapeInterval between metric samples, in seconds.
	ScrapeIntervalSeconds float64
	// SLOLatencySeconds and SLOTarget are the SLO trained against.
	SLOLatencySeconds float64
	SLOTarget         float64
	// MinReplicas and MaxReplicas bounded the replica count.
	MinReplicas, MaxReplicas int
	// Concurrency is the worker slots per replica.
	Concurrency int
}

// TrainingInfo records the training run.
type TrainingInfo struct {
	// Steps are the environment steps trained for; Episodes the episodes finished.
	Steps, Episodes int
	// Seed of the run.
	Seed uint64
	// ConfigHash is "sha256:" and the hex SHA-256 of the resolved training
	// configuration (config.yaml in the run directory) and its traces.
	ConfigHash string
	// Traces names the training traces.
	Traces []string
	// Build is the build that wrote the file (buildinfo.Info.String); optional, so
	// that files written before it existed still load.
	Build string
}

// Validate checks every field and dimension against the others and the limits. It
// allocates nothing proportional to the sizes it checks.
func (p *Policy) Validate() error {
	if p.Version != Version {
		return fmt.Errorf("policy: version %d: this build reads version %d", p.Version, Version)
	}
	if !agents.IsLearner(p.Algorithm) {
		return fmt.Errorf("policy: algorithm %q: want one of %v", p.Algorithm, agents.LearnerNames())
	}
	n := &p.Network
	if len(n.Sizes) < 2 || len(n.Sizes)-1 > MaxLayers {
		return fmt.Errorf("policy: network.sizes: %d sizes, want 2 to %d", len(n.Sizes), MaxLayers+1)
	}
	params := 0
	for i, s := range n.Sizes {
		if s < 1 || s > MaxLayerSize {
			return fmt.Errorf("policy: network.sizes[%d] = %d: must be in [1, %d]", i, s, MaxLayerSize)
		}
		if i > 0 {
			params += n.Sizes[i-1]*s + s
			if params > MaxParams {
				return fmt.Errorf("policy: network.sizes %v: more than %d parameters", n.Sizes, MaxParams)
			}
		}
	}
	if len(n.Params) != params {
		return fmt.Errorf("policy: network.params: %d values, sizes %v need %d", len(n.Params), n.Sizes, params)
	}
	if _, err := nn.ParseActivation(n.Activation); err != nil {
		return fmt.Errorf("policy: network.activation: %w", err)
	}
	for i, v := range n.Params {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("policy: network.params[%d] = %v: must be finite", i, v)
		}
	}
	in, out := n.Sizes[0], n.Sizes[len(n.Sizes)-1]
	if len(p.Features.Features) > MaxFeatures {
		return fmt.Errorf("policy: %d features, at most %d", len(p.Features.Features), MaxFeatures)
	}
	if len(p.Features.Features) != in {
		return fmt.Errorf("policy: %d features for a network of %d inputs", len(p.Features.Features), in)
	}
	if err := p.Features.Validate(); err != nil {
		return fmt.Errorf("policy: features: %w", err)
	}
	if len(p.Actions) != out || out > MaxActions {
		return fmt.Errorf("policy: %d actions for a network of %d outputs", len(p.Actions), out)
	}
	for i, a := range p.Actions {
		if a < -MaxLayerSize*256 || a > MaxLayerSize*256 {
			return fmt.Errorf("policy: actions[%d] = %d: out of range", i, a)
		}
	}
	if err := env.ValidateActions(p.ActionMode, p.Actions); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if len(p.Training.Build) > MaxBuildBytes {
		return fmt.Errorf("policy: training.build: %d bytes, at most %d", len(p.Training.Build), MaxBuildBytes)
	}
	if err := p.Shield.Validate(); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if err := env.ValidateHeadroomScale(p.ActionMode, p.HeadroomScale); err != nil {
		return fmt.Errorf("policy: headroom_scale: %w", err)
	}
	// The actuator knows what each mode needs of the features.
	if _, err := p.Actuator(); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if z := p.Normaliser; z != nil {
		if len(z.Mean) != in || len(z.Var) != in {
			return fmt.Errorf("policy: normaliser: mean/var of length %d/%d for %d inputs", len(z.Mean), len(z.Var), in)
		}
		for i := range z.Mean {
			if math.IsNaN(z.Mean[i]) || math.IsInf(z.Mean[i], 0) {
				return fmt.Errorf("policy: normaliser.mean[%d] = %v: must be finite", i, z.Mean[i])
			}
			if !(z.Var[i] >= 0) || math.IsInf(z.Var[i], 0) {
				return fmt.Errorf("policy: normaliser.var[%d] = %v: must be finite and >= 0", i, z.Var[i])
			}
		}
		if !(z.Count > 0) || math.IsInf(z.Count, 0) {
			return fmt.Errorf("policy: normaliser.count = %v: must be finite and > 0", z.Count)
		}
		if !(z.Clip >= 0) || math.IsInf(z.Clip, 0) {
			return fmt.Errorf("policy: normaliser.clip = %v: must be finite and >= 0", z.Clip)
		}
	}
	s := p.Sim
	for _, f := range []struct {
		name string
		v    float64
	}{{"control_interval_seconds", s.ControlIntervalSeconds}, {"scrape_interval_seconds", s.ScrapeIntervalSeconds}, {"slo_latency_seconds", s.SLOLatencySeconds}} {
		if !(f.v > 0) || math.IsInf(f.v, 0) {
			return fmt.Errorf("policy: sim.%s = %v: must be finite and > 0", f.name, f.v)
		}
	}
	if !(s.SLOTarget > 0 && s.SLOTarget <= 1) {
		return fmt.Errorf("policy: sim.slo_target = %v: must be in (0, 1]", s.SLOTarget)
	}
	if s.MinReplicas < 0 || s.MaxReplicas < s.MinReplicas || s.MaxReplicas < 1 {
		return fmt.Errorf("policy: sim min/max replicas %d/%d: want 0 <= min <= max, max >= 1", s.MinReplicas, s.MaxReplicas)
	}
	if s.Concurrency < 1 {
		return fmt.Errorf("policy: sim.concurrency = %d: must be >= 1", s.Concurrency)
	}
	if p.Training.Steps < 0 || p.Training.Episodes < 0 {
		return fmt.Errorf("policy: training steps/episodes %d/%d: must be >= 0", p.Training.Steps, p.Training.Episodes)
	}
	return nil
}

// Actuator returns the decision path of the policy: its action mode, actions and
// shield, as the training environment applied them (env.Actuator). Every runner of
// the policy (the simulator adapter, the live controller) decides through it.
func (p *Policy) Actuator() (*env.Actuator, error) {
	a, err := env.NewActuator(p.ActionMode, p.Actions, p.Shield, p.Features)
	if err != nil {
		return nil, err
	}
	a.HeadroomScale = p.HeadroomScale
	return a, nil
}

// NumInputs is the observation length the policy takes.
func (p *Policy) NumInputs() int { return p.Network.Sizes[0] }

// Act returns the greedy action for a raw observation (the features' values in
// order): normalise with the frozen statistics, run the network, take the argmax
// (the first on ties). It returns -1 for an observation of the wrong length or an
// invalid policy. It does not allocate after its first call. Not safe for concurrent
// use.
func (p *Policy) Act(obs []float64) int {
	y, err := p.forward(obs)
	if err != nil {
		return -1
	}
	return nn.Argmax(y)
}

// Scores returns the network's outputs (logits or Q-values) for a raw observation in
// a new slice.
func (p *Policy) Scores(obs []float64) ([]float64, error) {
	y, err := p.forward(obs)
	if err != nil {
		return nil, err
	}
	return append([]float64(nil), y...), nil
}

// forward normalises obs and runs the network; the result is a network workspace.
func (p *Policy) forward(obs []float64) ([]float64, error) {
	if p.mlp == nil {
		if err := p.build(); err != nil {
			return nil, err
		}
	}
	if len(obs) != len(p.x) {
		return nil, fmt.Errorf("policy: observation of length %d, want %d", len(obs), len(p.x))
	}
	// Hidden features reach the network as 0, as the environment gave them to
	// the learner (features.Spec.Hide).
	x := p.Features.Hide(p.x, obs)
	if z := p.Normaliser; z != nil {
		for j, v := range x {
			// The arithmetic of env.RunningMeanStd.Normalize, operation for operation.
			y := (v - z.Mean[j]) / math.Sqrt(z.Var[j]+normEpsilon)
			if z.Clip > 0 {
				y = max(-z.Clip, min(z.Clip, y))
			}
			p.x[j] = y
		}
		x = p.x
	}
	return p.mlp.Forward(x, 1), nil
}

// build validates the policy and makes the network and workspaces Act uses.
func (p *Policy) build() error {
	if err := p.Validate(); err != nil {
		return err
	}
	act, _ := nn.ParseActivation(p.Network.Activation)
	m := &nn.MLP{Sizes: append([]int(nil), p.Network.Sizes...), Hidden: act, Params: p.Network.Params}
	if err := nn.ValidateShape(m.Sizes, len(m.Params)); err != nil {
		return fmt.Errorf("policy: network: %w", err)
	}
	p.mlp = m
	p.x = make([]float64, p.Network.Sizes[0])
	return nil
}
