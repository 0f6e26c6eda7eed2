package dqn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/env"
)

// Stats reports the state of training after a step.
type Stats struct {
	Step    int     // environment steps taken
	Epsilon float64 // exploration probability used on this step
	// Done is set on the step that ends an episode, with its return and length.
	Done          bool
	EpisodeReturn float64
	EpisodeLength int
	// Updates counts gradient steps; Loss and QMean (mean Q of the actions taken) are
	// from the latest one.
	Updates int
	Loss    float64
	QMean   float64
}

// Trainer runs DQN on one environment, one step at a time. Its exported fields are the
// whole training state apart from the environment's own: a checkpoint saves them (the
// generator with PCG.MarshalBinary) beside the environment's state.
type Trainer struct {
	Config    Config
	Q, Target *nn.MLP  // online and target networks
	Opt       *nn.Adam // optimiser of Q
	Replay    *Replay
	PCG       *rand.PCG // the run's source of randomness (Imitate's minibatch order aside)

	GlobalStep    int       // environment steps taken
	Updates       int       // gradient steps taken
	Episodes      int       // episodes finished
	Obs           []float64 // current observation
	NeedReset     bool      // the current episode has ended
	EpisodeReturn float64   // return of the current episode so far
	EpisodeLength int       // steps of the current episode so far
	LastLoss      float64   // loss of the latest gradient step
	LastQ         float64   // mean Q of the taken actions in the latest gradient step

	env      env.Env
	rng      *rand.Rand
	agent    *Agent
	batch    *Batch
	targets  []float64 // TD targets
	pred     []float64 // Q(s, a) of the batch
	gradPred []float64 // ∂loss/∂pred
	dy       []float64 // ∂loss/∂Q(s, ·)
	nextQ    []float64 // online Q(s', ·), kept for Double DQN
}

// NewTrainer validates cfg, builds the networks (orthogonal init, gain √2 for hidden
// layers and 1 for the output) and resets e with cfg.Seed.
func NewTrainer(e env.Env, cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dim := e.ObservationSpace().Dim()
	nA := e.ActionSpace().N
	if dim < 1 || nA < 1 {
		return nil, fmt.Errorf("dqn: environment with %d-dimensional observations and %d actions", dim, nA)
	}
	act, _ := nn.ParseActivation(cfg.Activation) // checked by Validate
	sizes := append(append([]int{dim}, cfg.Hidden...), nA)
	if err := nn.ValidateShape(sizes, nn.NumParams(sizes)); err != nil {
		return nil, fmt.Errorf("dqn: Q-network: %w", err)
	}
	gains := make([]float64, len(sizes)-1)
	for i := range gains {
		gains[i] = math.Sqrt2
	}
	gains[len(gains)-1] = 1
	pcg := rand.NewPCG(cfg.Seed, 0x64716e) // stream "dqn"
	rng := rand.New(pcg)
	q := nn.NewMLP(sizes, act, gains, rng)
	opt := nn.NewAdam(len(q.Params), cfg.LearningRate)
	opt.Eps = cfg.AdamEps
	t := &Trainer{
		Config: cfg,
		Q:      q,
		Target: q.Clone(),
		Opt:    opt,
		Replay: NewReplay(cfg.BufferSize, dim),
		PCG:    pcg,
		Obs:    make([]float64, dim),
		env:    e,
	}
	t.init()
	obs, _ := e.Reset(cfg.Seed)
	if len(obs) != dim {
		return nil, fmt.Errorf("dqn: Reset returned %d values, observation space has %d", len(obs), dim)
	}
	copy(t.Obs, obs)
	return t, nil
}

// init builds the unexported workspaces from the exported state.
func (t *Trainer) init() {
	n, nA := t.Config.BatchSize, t.Q.Out()
	t.rng = rand.New(t.PCG)
	t.agent = &Agent{Q: t.Q, Rng: t.rng, NumActions: nA}
	t.batch = NewBatch(n, t.Q.In())
	t.targets = make([]float64, n)
	t.pred = make([]float64, n)
	t.gradPred = make([]float64, n)
	t.dy = make([]float64, n*nA)
	t.nextQ = make([]float64, n*nA)
}

// Attach sets the environment and rebuilds the workspaces of a Trainer whose exported
// fields were restored from a checkpoint. e must be in the state it was in when the
// checkpoint was taken (its own MarshalBinary/UnmarshalBinary), so that Obs is its
// current observation.
func (t *Trainer) Attach(e env.Env) error {
	if err := t.Config.Validate(); err != nil {
		return err
	}
	if t.Q == nil || t.Target == nil || t.Opt == nil || t.Replay == nil || t.PCG == nil {
		return errors.New("dqn: Attach: missing networks, optimiser, replay buffer or generator")
	}
	dim, nA := e.ObservationSpace().Dim(), e.ActionSpace().N
	if t.Q.In() != dim || t.Q.Out() != nA || t.Target.In() != dim || t.Target.Out() != nA {
		return fmt.Errorf("dqn: Attach: networks map %d to %d, environment has %d observations and %d actions",
			t.Q.In(), t.Q.Out(), dim, nA)
	}
	if t.Replay.Dim != dim || len(t.Obs) != dim {
		return fmt.Errorf("dqn: Attach: replay holds %d-dimensional observations, Obs has %d, environment %d",
			t.Replay.Dim, len(t.Obs), dim)
	}
	if len(t.Opt.M) != len(t.Q.Params) {
		return fmt.Errorf("dqn: Attach: optimiser for %d parameters, network has %d", len(t.Opt.M), len(t.Q.Params))
	}
	t.env = e
	t.init()
	return nil
}

// Agent returns the agent acting with the online network and the run's generator.
func (t *Trainer) Agent() *Agent { return t.agent }

// Step takes one environment step with the epsilon-greedy policy, stores the
// transition and, on CleanRL's schedule, takes a gradient step and updates the target
// network.
func (t *Trainer) Step() Stats {
	c := &t.Config
	if t.NeedReset {
		obs, _ := t.env.Reset(t.rng.Uint64())
		copy(t.Obs, obs)
		t.NeedReset = false
	}
	step := t.GlobalStep
	eps := c.Epsilon(step)
	a := t.agent.Act(t.Obs, eps)
	next, r, term, trunc, _ := t.env.Step(a)
	// Truncation is not termination: the target bootstraps from next.
	t.Replay.Add(t.Obs, a, r, next, term)
	copy(t.Obs, next)
	t.EpisodeReturn += r
	t.EpisodeLength++
	t.GlobalStep++

	if step > c.LearningStarts {
		if step%c.TrainFrequency == 0 {
			t.train()
		}
		if step%c.TargetNetworkFrequency == 0 {
			t.updateTarget()
		}
	}

	s := Stats{Step: t.GlobalStep, Epsilon: eps, Updates: t.Updates, Loss: t.LastLoss, QMean: t.LastQ}
	if term || trunc {
		s.Done, s.EpisodeReturn, s.EpisodeLength = true, t.EpisodeReturn, t.EpisodeLength
		t.Episodes++
		t.EpisodeReturn, t.EpisodeLength = 0, 0
		t.NeedReset = true
	}
	return s
}

// Run takes steps environment steps, calling log (if not nil) at the end of every
// episode.
func (t *Trainer) Run(steps int, log func(Stats)) {
	for range steps {
		if s := t.Step(); s.Done && log != nil {
			log(s)
		}
	}
}

// Train builds a Trainer and runs it for steps environment steps.
func Train(e env.Env, cfg Config, steps int, log func(Stats)) (*Trainer, error) {
	if steps < 0 {
		return nil, errors.New("dqn: Train: negative step count")
	}
	t, err := NewTrainer(e, cfg)
	if err != nil {
		return nil, err
	}
	t.Run(steps, log)
	return t, nil
}

// train takes one gradient step on a sampled batch.
func (t *Trainer) train() {
	c := &t.Config
	b := t.batch
	n, nA := b.N, t.Q.Out()
	t.Replay.Sample(t.rng, b)

	var online []float64
	if c.DoubleDQN {
		copy(t.nextQ, t.Q.Forward(b.NextObs, n))
		online = t.nextQ
	}
	tdTargets(t.targets, b.Rewards, b.Terminated, t.Target.Forward(b.NextObs, n), online, nA, c.Gamma)

	q := t.Q.Forward(b.Obs, n)
	var qsum float64
	for k, a := range b.Actions {
		t.pred[k] = q[k*nA+a]
		qsum += t.pred[k]
	}
	var loss float64
	if c.Loss == "mse" {
		loss = nn.MSELoss(t.gradPred, t.pred, t.targets)
	} else {
		loss = nn.HuberLoss(t.gradPred, t.pred, t.targets, c.HuberDelta)
	}
	clear(t.dy)
	for k, a := range b.Actions {
		t.dy[k*nA+a] = t.gradPred[k]
	}
	t.Q.ZeroGrad()
	t.Q.Backward(t.dy)
	if c.MaxGradNorm > 0 {
		nn.ClipGradNorm(c.MaxGradNorm, t.Q.Grads)
	}
	t.Opt.Update(t.Q.Params, t.Q.Grads)
	t.Updates++
	t.LastLoss = loss
	t.LastQ = qsum / float64(n)
}

// tdTargets writes r + γ·(1−terminated)·V(s') into dst. V(s') is max_a Qtarget(s', a),
// or with Double DQN (online != nil) Qtarget(s', argmax_a Qonline(s', a)). The Q
// arrays are n×nA, row-major.
func tdTargets(dst, rewards, terminated, target, online []float64, nA int, gamma float64) {
	for k := range dst {
		row := target[k*nA : (k+1)*nA]
		var v float64
		if online != nil {
			v = row[nn.Argmax(online[k*nA:(k+1)*nA])]
		} else {
			v = row[nn.Argmax(row)]
		}
		dst[k] = rewards[k] + gamma*v*(1-terminated[k])
	}
}

// updateTarget moves the target network towards the online one: a copy when τ = 1.
func (t *Trainer) updateTarget() {
	tau := t.Config.Tau
	if tau == 1 {
		t.Target.CopyFrom(t.Q)
		return
	}
	tp := t.Target.Params
	for i, p := range t.Q.Params {
		tp[i] = tau*p + (1-tau)*tp[i]
	}
}
