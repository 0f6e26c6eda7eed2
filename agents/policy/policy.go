// Package policy is the exported form of a trained autoscaling policy: the network,
// the frozen observation statistics, the feature and action definitions it was
// trained with, and metadata, in a versioned, checksummed JSON file. Loading
// validates every field and dimension, so a corrupt or hostile file gets an error,
// never a panic or a large allocation.
package policy

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
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
	// MaxMembers is the largest number of further networks of an ensemble.
	MaxMembers = 31
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
	// Members are the further networks of an ensemble (see Ensemble); none for a
	// single network. Each takes the same features and scores the same actions as
	// Network; Act takes a vote (Vote) of all the networks' greedy actions.
	Members []Member
	// Vote is how an ensemble's networks decide together: VoteMedian ("" reads as
	// median) or VoteCautious. Only with Members.
	Vote string
	// Checksum is "sha256:" and the hex SHA-256 of the canonical JSON encoding of the
	// policy with Checksum empty. Save sets it; Read verifies it.
	Checksum string

	nets      []voter // Network, then Members, built by build
	votes     []int
	nonFinite int // Act's refusals of a non-finite score (NonFinite)
}

// The ways an ensemble's networks decide together (Policy.Vote).
const (
	// VoteMedian takes the median of the networks' greedy actions (the lower of the
	// two middle ones for an even number: the cooler, in target mode).
	VoteMedian = "median"
	// VoteCautious takes the greedy action that asks for the most replicas: the
	// lowest target utilisation in target and forecast modes, the largest change in
	// delta and percent modes; as HPA takes the largest of its metrics'
	// recommendations.
	VoteCautious = "cautious"
)

// Member is one further network of an ensemble, with its own observation
// statistics and the record of its own training run (Algorithm, Network,
// Normaliser and Training as in Policy).
type Member struct {
	Algorithm  string
	Network    Network
	Normaliser *Normaliser
	Training   TrainingInfo
}

// voter is one built network of a policy and its input workspace.
type voter struct {
	mlp  *nn.MLP
	norm *Normaliser
	x    []float64
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

// SimDifference is a setting of the service a policy runs on that differs from the
// one it was trained on (SimInfo.Differences).
type SimDifference struct {
	// Setting is the sim.Config field's YAML path: "slo.latency", "max_replicas".
	Setting string
	// Trained and Run are the two values, written as in a simulator config file.
	Trained, Run string
}

// String is "was trained with SETTING TRAINED, this run has RUN", to follow the
// policy's name.
func (d SimDifference) String() string {
	return fmt.Sprintf("was trained with %s %s, this run has %s", d.Setting, d.Trained, d.Run)
}

// Differences lists the settings of the service c (validated) that differ from the
// ones the policy was trained on: SLO latency and target, min_replicas,
// max_replicas, concurrency, in that order; none when they all agree. They are
// worth a warning, not a refusal: a policy may serve a bigger service than it was
// trained on, but it never saw those counts, slots or SLO. The control and scrape
// intervals are not among them: they pace the features and the replica changes,
// and a runner refuses other ones (train.Autoscaler). A policy file does not
// record the start-up delay or the service time, so they cannot be compared.
func (s SimInfo) Differences(c sim.Config) []SimDifference {
	var ds []SimDifference
	diff := func(setting, trained, run string) {
		if trained != run {
			ds = append(ds, SimDifference{Setting: setting, Trained: trained, Run: run})
		}
	}
	trainedSLO := time.Duration(math.Round(s.SLOLatencySeconds * float64(time.Second)))
	diff("slo.latency", yamldoc.Duration(trainedSLO), yamldoc.Duration(c.SLO.Latency))
	diff("slo.target", fmt.Sprint(s.SLOTarget), fmt.Sprint(c.SLO.Target))
	diff("min_replicas", fmt.Sprint(s.MinReplicas), fmt.Sprint(c.Min()))
	diff("max_replicas", fmt.Sprint(s.MaxReplicas), fmt.Sprint(c.MaxReplicas))
	diff("concurrency", fmt.Sprint(s.Concurrency), fmt.Sprint(c.Concurrency))
	return ds
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
	if err := validateNetwork("network", n); err != nil {
		return err
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
	if err := p.Shield.Validate(); err != nil {
		return fmt.Errorf("policy: %w", yamldoc.Within("shield", err))
	}
	if err := env.ValidateHeadroomScale(p.ActionMode, p.HeadroomScale); err != nil {
		return fmt.Errorf("policy: headroom_scale: %w", err)
	}
	// The actuator knows what each mode needs of the features.
	if _, err := p.Actuator(); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if err := validateNormaliser("normaliser", p.Normaliser, in); err != nil {
		return err
	}
	if err := p.validateMembers(in, out); err != nil {
		return err
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
	return validateTraining("training", p.Training)
}

func validateTraining(at string, t TrainingInfo) error {
	if t.Steps < 0 || t.Episodes < 0 {
		return fmt.Errorf("policy: %s steps/episodes %d/%d: must be >= 0", at, t.Steps, t.Episodes)
	}
	if len(t.Build) > MaxBuildBytes {
		return fmt.Errorf("policy: %s.build: %d bytes, at most %d", at, len(t.Build), MaxBuildBytes)
	}
	return nil
}

// validateNetwork checks a network's sizes, parameters and activation; at names it.
func validateNetwork(at string, n *Network) error {
	if len(n.Sizes) < 2 || len(n.Sizes)-1 > MaxLayers {
		return fmt.Errorf("policy: %s.sizes: %d sizes, want 2 to %d", at, len(n.Sizes), MaxLayers+1)
	}
	params := 0
	for i, s := range n.Sizes {
		if s < 1 || s > MaxLayerSize {
			return fmt.Errorf("policy: %s.sizes[%d] = %d: must be in [1, %d]", at, i, s, MaxLayerSize)
		}
		if i > 0 {
			params += n.Sizes[i-1]*s + s
			if params > MaxParams {
				return fmt.Errorf("policy: %s.sizes %v: more than %d parameters", at, n.Sizes, MaxParams)
			}
		}
	}
	if len(n.Params) != params {
		return fmt.Errorf("policy: %s.params: %d values, sizes %v need %d", at, len(n.Params), n.Sizes, params)
	}
	if _, err := nn.ParseActivation(n.Activation); err != nil {
		return fmt.Errorf("policy: %s.activation: %w", at, err)
	}
	for i, v := range n.Params {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("policy: %s.params[%d] = %v: must be finite", at, i, v)
		}
	}
	return nil
}

// validateNormaliser checks observation statistics for in inputs (nil is valid).
func validateNormaliser(at string, z *Normaliser, in int) error {
	if z == nil {
		return nil
	}
	if len(z.Mean) != in || len(z.Var) != in {
		return fmt.Errorf("policy: %s: mean/var of length %d/%d for %d inputs", at, len(z.Mean), len(z.Var), in)
	}
	for i := range z.Mean {
		if math.IsNaN(z.Mean[i]) || math.IsInf(z.Mean[i], 0) {
			return fmt.Errorf("policy: %s.mean[%d] = %v: must be finite", at, i, z.Mean[i])
		}
		if !(z.Var[i] >= 0) || math.IsInf(z.Var[i], 0) {
			return fmt.Errorf("policy: %s.var[%d] = %v: must be finite and >= 0", at, i, z.Var[i])
		}
	}
	if !(z.Count > 0) || math.IsInf(z.Count, 0) {
		return fmt.Errorf("policy: %s.count = %v: must be finite and > 0", at, z.Count)
	}
	if !(z.Clip >= 0) || math.IsInf(z.Clip, 0) {
		return fmt.Errorf("policy: %s.clip = %v: must be finite and >= 0", at, z.Clip)
	}
	return nil
}

// validateMembers checks an ensemble's further networks: each of in inputs and out
// outputs, and actions in increasing order, so that the median of the networks'
// greedy actions is defined.
func (p *Policy) validateMembers(in, out int) error {
	if len(p.Members) == 0 {
		if p.Vote != "" {
			return fmt.Errorf("policy: vote %q without members: a single network has no vote", p.Vote)
		}
		return nil
	}
	switch p.Vote {
	case "", VoteMedian, VoteCautious:
	default:
		return fmt.Errorf("policy: vote %q: want %s or %s", p.Vote, VoteMedian, VoteCautious)
	}
	if len(p.Members) > MaxMembers {
		return fmt.Errorf("policy: %d members, at most %d", len(p.Members), MaxMembers)
	}
	for i := 1; i < len(p.Actions); i++ {
		if p.Actions[i] <= p.Actions[i-1] {
			return fmt.Errorf("policy: actions %v: %w", p.Actions, ErrActionOrder)
		}
	}
	for i := range p.Members {
		m := &p.Members[i]
		at := fmt.Sprintf("members[%d]", i)
		if !agents.IsLearner(m.Algorithm) {
			return fmt.Errorf("policy: %s.algorithm %q: want one of %v", at, m.Algorithm, agents.LearnerNames())
		}
		// As Ensemble refuses them: the networks of an ensemble are of one
		// algorithm, and none is another's (it would count twice in the vote).
		if m.Algorithm != p.Algorithm {
			return fmt.Errorf("policy: %s.algorithm %q: the policy's network is of algorithm %s: an ensemble's networks are of one algorithm", at, m.Algorithm, p.Algorithm)
		}
		if err := validateNetwork(at+".network", &m.Network); err != nil {
			return err
		}
		for j, n := range networks(p)[:i+1] {
			if reflect.DeepEqual(n, m.Network) {
				of := "network"
				if j > 0 {
					of = fmt.Sprintf("members[%d].network", j-1)
				}
				return fmt.Errorf("policy: %s.network: the same as %s: the same training twice, not another seed", at, of)
			}
		}
		if s := m.Network.Sizes; s[0] != in || s[len(s)-1] != out {
			return fmt.Errorf("policy: %s.network.sizes %v: want %d inputs and %d outputs, as network", at, s, in, out)
		}
		if err := validateNormaliser(at+".normaliser", m.Normaliser, in); err != nil {
			return err
		}
		if err := validateTraining(at+".training", m.Training); err != nil {
			return err
		}
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

// ScalesFromZero reports whether the policy can ask for replicas when none is
// Ready. In target and forecast modes an action is a target utilisation of the
// Ready replicas, and at zero there is none to scale on (the count holds,
// env.Actuator.Target), as with HPA's ratio rule on zero pods; in delta and
// percent modes an action adds replicas to any count.
func (p *Policy) ScalesFromZero() bool {
	return p.ActionMode != env.ActionTarget && p.ActionMode != env.ActionForecast
}

// NumInputs is the observation length the policy takes.
func (p *Policy) NumInputs() int { return p.Network.Sizes[0] }

// Act returns the greedy action for a raw observation (the features' values in
// order): normalise with the frozen statistics, run the network, take the argmax
// (the first on ties). An ensemble takes the median of its networks' greedy
// actions, or the most cautious of them (Vote). It returns -1 for an observation of the wrong length
// or an invalid policy, and for an observation on which a network's scores are not
// all finite (counted by NonFinite): the argmax of NaN scores would be action 0,
// chosen by nothing. It does not allocate after its first call. Not safe for
// concurrent use.
func (p *Policy) Act(obs []float64) int {
	if p.nets == nil {
		if err := p.build(); err != nil {
			return -1
		}
	}
	if len(obs) != p.NumInputs() {
		return -1
	}
	if len(p.nets) == 1 {
		s := p.nets[0].forward(p, obs)
		if !finite(s) {
			p.nonFinite++
			return -1
		}
		return nn.Argmax(s)
	}
	// Actions increase with their index (Validate), so the median action is the
	// median index; an insertion sort of a few votes, in place.
	v := p.votes[:0]
	for i := range p.nets {
		s := p.nets[i].forward(p, obs)
		if !finite(s) {
			p.nonFinite++
			return -1
		}
		a := nn.Argmax(s)
		j := len(v)
		v = append(v, a)
		for ; j > 0 && v[j-1] > a; j-- {
			v[j] = v[j-1]
		}
		v[j] = a
	}
	if p.Vote == VoteCautious {
		if p.ActionMode == env.ActionTarget || p.ActionMode == env.ActionForecast {
			return v[0]
		}
		return v[len(v)-1]
	}
	return v[(len(v)-1)/2]
}

// NonFinite is the number of observations on which Act found a network's scores
// not all finite and returned -1 rather than an action. Loading refuses a network
// that overflows on the observations it probes (build), but not every observation
// can be probed: a caller running the policy should stop, or at least say so, when
// this grows.
func (p *Policy) NonFinite() int { return p.nonFinite }

// finite reports whether every score is a finite number.
func finite(scores []float64) bool {
	for _, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return false
		}
	}
	return true
}

// Scores returns the outputs (logits or Q-values) of the policy's first network
// (Network, not the members of an ensemble) for a raw observation in a new slice.
func (p *Policy) Scores(obs []float64) ([]float64, error) {
	if p.nets == nil {
		if err := p.build(); err != nil {
			return nil, err
		}
	}
	if len(obs) != p.NumInputs() {
		return nil, fmt.Errorf("policy: observation of length %d, want %d", len(obs), p.NumInputs())
	}
	return append([]float64(nil), p.nets[0].forward(p, obs)...), nil
}

// forward normalises obs and runs the network; the result is a network workspace.
func (v *voter) forward(p *Policy, obs []float64) []float64 {
	// Hidden features reach the network as 0, as the environment gave them to
	// the learner (features.Spec.Hide).
	x := p.Features.Hide(v.x, obs)
	if z := v.norm; z != nil {
		for j, u := range x {
			// The arithmetic of env.RunningMeanStd.Normalize, operation for operation.
			y := (u - z.Mean[j]) / math.Sqrt(z.Var[j]+normEpsilon)
			if z.Clip > 0 {
				y = max(-z.Clip, min(z.Clip, y))
			}
			v.x[j] = y
		}
		x = v.x
	}
	return v.mlp.Forward(x, 1)
}

// build validates the policy and makes the networks and workspaces Act uses.
func (p *Policy) build() error {
	if err := p.Validate(); err != nil {
		return err
	}
	nets := make([]voter, 0, 1+len(p.Members))
	add := func(at string, n *Network, z *Normaliser) error {
		act, _ := nn.ParseActivation(n.Activation)
		m := &nn.MLP{Sizes: append([]int(nil), n.Sizes...), Hidden: act, Params: n.Params}
		if err := nn.ValidateShape(m.Sizes, len(m.Params)); err != nil {
			return fmt.Errorf("policy: %s: %w", at, err)
		}
		nets = append(nets, voter{mlp: m, norm: z, x: make([]float64, n.Sizes[0])})
		return nil
	}
	if err := add("network", &p.Network, p.Normaliser); err != nil {
		return err
	}
	for i := range p.Members {
		if err := add(fmt.Sprintf("members[%d].network", i), &p.Members[i].Network, p.Members[i].Normaliser); err != nil {
			return err
		}
	}
	if err := p.probe(nets); err != nil {
		return err
	}
	p.nets, p.votes = nets, make([]int, 0, len(nets))
	return nil
}

// probe runs every network on a few observations (all features 0, the
// normaliser's mean, every feature at the low and at the high end of its range)
// and refuses one whose scores on them are not all finite: parameters finite one
// by one may still overflow together, and such a network decides nothing. A
// feature's range is its clip, or for an unclipped one the normaliser's clip (an
// unclipped feature without one is probed at 0 only).
func (p *Policy) probe(nets []voter) error {
	fs := p.Features.Features
	obs := make([]float64, len(fs))
	for k := range nets {
		v := &nets[k]
		at := "network"
		if k > 0 {
			at = fmt.Sprintf("members[%d].network", k-1)
		}
		// end is a feature's end of range as probed: an infinite one normalises
		// to the clip; without a clip there is no end to probe.
		end := func(x float64) float64 {
			if math.IsInf(x, 0) && (v.norm == nil || v.norm.Clip == 0) {
				return 0
			}
			return x
		}
		type probe struct {
			on    string
			value func(j int) float64
		}
		probes := []probe{{"the zero observation", func(int) float64 { return 0 }}}
		if z := v.norm; z != nil {
			probes = append(probes, probe{"the normaliser's mean", func(j int) float64 { return z.Mean[j] }})
		}
		probes = append(probes,
			probe{"every feature at the low end of its range", func(j int) float64 { lo, _ := fs[j].Bounds(); return end(lo) }},
			probe{"every feature at the high end of its range", func(j int) float64 { _, hi := fs[j].Bounds(); return end(hi) }})
		for _, pr := range probes {
			for j := range obs {
				obs[j] = pr.value(j)
			}
			for i, s := range v.forward(p, obs) {
				if math.IsNaN(s) || math.IsInf(s, 0) {
					return fmt.Errorf("policy: %s: score %v for action %d on %s: its parameters, each finite, overflow together, and it cannot decide", at, s, i, pr.on)
				}
			}
		}
	}
	return nil
}
