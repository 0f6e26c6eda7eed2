package ppo

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/env"
)

// rngStream is the PCG stream constant of a trainer's generator.
const rngStream = 0x70706f // "ppo"

// Trainer holds all the state of one PPO run and advances it one update (a rollout of
// NumSteps steps on every copy, then UpdateEpochs passes of minibatch gradient steps)
// per call to Update. Between updates its state is the exported fields plus the
// environments' own state (Envs.MarshalBinary), so a run can be checkpointed and
// resumed at an update boundary. It uses no clock and no global random source: the
// same Config gives the same parameters, bit for bit, with or without ParallelEnvs.
type Trainer struct {
	Config Config
	// Actor maps observations to action logits; Critic maps them to a value.
	Actor, Critic *nn.MLP
	// ActorOpt and CriticOpt are Adam over each network's parameters. CleanRL uses one
	// Adam over both: with equal settings that is the same update, element by element.
	ActorOpt, CriticOpt *nn.Adam
	// Envs are the environment copies, each wrapped in env.EpisodeStatistics.
	Envs *env.Vector
	// ObsRMS holds the observation statistics (nil unless Config.NormalizeObs).
	ObsRMS *env.RunningMeanStd
	// RNG draws actions and minibatch orders (and drew the initial weights).
	RNG *rand.PCG
	// Iteration is the number of updates done; GlobalStep the env steps taken (all copies).
	Iteration, GlobalStep int
	// NextObs is the (normalised) observation each copy will act on next, NumEnvs x obsDim.
	NextObs []float64

	rng            *rand.Rand
	obsDim, nAct   int
	obs            []float64 // rollout: (NumSteps*NumEnvs) x obsDim, step-major
	actions        []int
	logProbs       []float64
	rewards        []float64
	values         []float64
	dones          []bool
	adv, ret       []float64
	nextValue      []float64
	finalObs       []float64 // truncated copies' final observations, for the bootstrap
	finalIdx       []int
	stepActions    []int
	perm           []int
	mbObs, mbAdv   []float64
	dLogits, dVals []float64
	entGrad        []float64 // one row of ∂H/∂logits
	epReturns      []float64
	epLengths      []int
}

// NewTrainer validates cfg and builds the networks and cfg.NumEnvs copies of the
// environment from newEnv(i), each wrapped in env.EpisodeStatistics and reset with
// cfg.Seed+i.
func NewTrainer(cfg Config, newEnv func(i int) env.Env) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	envs := make([]env.Env, cfg.NumEnvs)
	for i := range envs {
		e := newEnv(i)
		if e == nil {
			return nil, fmt.Errorf("ppo: environment %d is nil", i)
		}
		envs[i] = env.NewEpisodeStatistics(e)
	}
	vec, err := env.NewVector(envs, cfg.ParallelEnvs)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	d, a := vec.ObservationSpace().Dim(), vec.ActionSpace().N
	if d < 1 || a < 1 {
		vec.Close()
		return nil, fmt.Errorf("ppo: observation dimension %d, %d actions: both must be >= 1", d, a)
	}
	t := &Trainer{Config: cfg, Envs: vec, RNG: rand.NewPCG(cfg.Seed, rngStream), obsDim: d, nAct: a}
	t.rng = rand.New(t.RNG)

	// CleanRL's Agent: layer_init(std=√2) on hidden layers, 0.01 on the actor head and
	// 1.0 on the critic head.
	sizes := func(out int) []int { return append(append([]int{d}, cfg.Hidden...), out) }
	gains := func(head float64) []float64 {
		g := make([]float64, len(cfg.Hidden)+1)
		for i := range cfg.Hidden {
			g[i] = math.Sqrt2
		}
		g[len(cfg.Hidden)] = head
		return g
	}
	t.Actor = nn.NewMLP(sizes(a), nn.Tanh, gains(0.01), t.rng)
	t.Critic = nn.NewMLP(sizes(1), nn.Tanh, gains(1), t.rng)
	t.ActorOpt = nn.NewAdam(len(t.Actor.Params), cfg.LearningRate)
	t.CriticOpt = nn.NewAdam(len(t.Critic.Params), cfg.LearningRate)
	t.ActorOpt.Eps, t.CriticOpt.Eps = cfg.AdamEps, cfg.AdamEps
	if cfg.NormalizeObs {
		t.ObsRMS = env.NewRunningMeanStd(d)
	}

	n, b, m := cfg.NumEnvs, cfg.BatchSize(), cfg.MinibatchSize()
	t.obs = make([]float64, b*d)
	t.actions = make([]int, b)
	t.logProbs, t.rewards, t.values = make([]float64, b), make([]float64, b), make([]float64, b)
	t.dones = make([]bool, b)
	t.adv, t.ret = make([]float64, b), make([]float64, b)
	t.nextValue = make([]float64, n)
	t.finalObs, t.finalIdx = make([]float64, 0, n*d), make([]int, 0, n)
	t.stepActions = make([]int, n)
	t.perm = make([]int, b)
	t.mbObs, t.mbAdv = make([]float64, m*d), make([]float64, m)
	t.dLogits, t.dVals = make([]float64, m*a), make([]float64, m)
	t.entGrad = make([]float64, a)
	t.NextObs = make([]float64, n*d)

	obs, _ := vec.Reset(cfg.Seed)
	t.observe(t.NextObs, obs, true)
	return t, nil
}

// Close stops the environment workers.
func (t *Trainer) Close() { t.Envs.Close() }

// Done reports whether the configured number of updates has run.
func (t *Trainer) Done() bool { return t.Iteration >= t.Config.NumIterations() }

// observe copies raw observations (rows of obsDim) into dst, normalised when configured;
// update folds them into the running statistics first.
func (t *Trainer) observe(dst, raw []float64, update bool) {
	if t.ObsRMS == nil {
		copy(dst, raw)
		return
	}
	rows := len(raw) / t.obsDim
	if update {
		t.ObsRMS.Update(raw, rows)
	}
	for r := range rows {
		t.ObsRMS.Normalize(dst[r*t.obsDim:(r+1)*t.obsDim], raw[r*t.obsDim:(r+1)*t.obsDim], t.Config.ObsClip)
	}
}

// Stats are one update's diagnostics, named as CleanRL logs them (see Map).
type Stats struct {
	Iteration, GlobalStep int
	LearningRate          float64 // charts/learning_rate
	ValueLoss             float64 // losses/value_loss (last minibatch)
	PolicyLoss            float64 // losses/policy_loss (last minibatch)
	Entropy               float64 // losses/entropy (last minibatch)
	OldApproxKL           float64 // losses/old_approx_kl (last minibatch)
	ApproxKL              float64 // losses/approx_kl (last minibatch)
	ClipFrac              float64 // losses/clipfrac (mean over all minibatches)
	ExplainedVariance     float64 // losses/explained_variance
	// EpisodeReturns and EpisodeLengths list the episodes that ended during this
	// update's rollout, in order of (step, copy).
	EpisodeReturns []float64
	EpisodeLengths []int
}

// Map returns the figures under CleanRL's names; charts/episodic_return and
// charts/episodic_length are the means over the episodes that ended, when any did.
// charts/steps_per_second needs a clock and is the caller's to add.
func (s Stats) Map() map[string]float64 {
	m := map[string]float64{
		"charts/learning_rate":      s.LearningRate,
		"losses/value_loss":         s.ValueLoss,
		"losses/policy_loss":        s.PolicyLoss,
		"losses/entropy":            s.Entropy,
		"losses/old_approx_kl":      s.OldApproxKL,
		"losses/approx_kl":          s.ApproxKL,
		"losses/clipfrac":           s.ClipFrac,
		"losses/explained_variance": s.ExplainedVariance,
		"charts/global_step":        float64(s.GlobalStep),
		"charts/iteration":          float64(s.Iteration),
	}
	if n := len(s.EpisodeReturns); n > 0 {
		var r, l float64
		for i := range n {
			r += s.EpisodeReturns[i]
			l += float64(s.EpisodeLengths[i])
		}
		m["charts/episodic_return"] = r / float64(n)
		m["charts/episodic_length"] = l / float64(n)
	}
	return m
}

// Update runs one rollout and one round of minibatch updates.
func (t *Trainer) Update() Stats {
	c := t.Config
	lr := c.LearningRate
	if c.AnnealLR {
		// CleanRL: frac = 1 - (iteration-1)/num_iterations, iterations counted from 1.
		lr *= max(0, 1-float64(t.Iteration)/float64(c.NumIterations()))
	}
	t.ActorOpt.LR, t.CriticOpt.LR = lr, lr
	t.epReturns, t.epLengths = t.epReturns[:0], t.epLengths[:0]

	t.rollout()
	stats := t.learn()
	t.Iteration++
	stats.Iteration, stats.GlobalStep, stats.LearningRate = t.Iteration, t.GlobalStep, lr
	stats.EpisodeReturns = append([]float64(nil), t.epReturns...)
	stats.EpisodeLengths = append([]int(nil), t.epLengths...)
	return stats
}

// rollout collects NumSteps steps on every copy and computes advantages and returns.
func (t *Trainer) rollout() {
	c := t.Config
	n, d, a := c.NumEnvs, t.obsDim, t.nAct
	for step := range c.NumSteps {
		base := step * n
		copy(t.obs[base*d:(base+n)*d], t.NextObs)
		logits := t.Actor.Forward(t.NextObs, n)
		for i := range n {
			l := logits[i*a : (i+1)*a]
			act := nn.SampleCategorical(l, t.rng)
			t.stepActions[i] = act
			t.actions[base+i] = act
			t.logProbs[base+i] = nn.LogProb(l, act)
		}
		copy(t.values[base:base+n], t.Critic.Forward(t.NextObs, n))

		obs, rewards, term, trunc, infos, err := t.Envs.Step(t.stepActions)
		if err != nil {
			panic(err) // unreachable: one action per copy
		}
		t.GlobalStep += n
		t.finalObs, t.finalIdx = t.finalObs[:0], t.finalIdx[:0]
		for i := range n {
			t.rewards[base+i] = rewards[i]
			t.dones[base+i] = term[i] || trunc[i]
			if trunc[i] && !term[i] {
				t.finalObs = append(t.finalObs, infos[i].FinalObs...)
				t.finalIdx = append(t.finalIdx, i)
			}
			if ep := infos[i].Episode; ep != nil {
				t.epReturns = append(t.epReturns, ep.Return)
				t.epLengths = append(t.epLengths, ep.Length)
			}
		}
		if k := len(t.finalIdx); k > 0 {
			// Truncation is not a terminal state: fold γ·V(final observation) into the
			// reward, then treat the step as done (CleanRL issue #198's fix).
			t.observe(t.finalObs, t.finalObs, false)
			v := t.Critic.Forward(t.finalObs, k)
			for j, i := range t.finalIdx {
				t.rewards[base+i] += c.Gamma * v[j]
			}
		}
		t.observe(t.NextObs, obs, true)
	}
	copy(t.nextValue, t.Critic.Forward(t.NextObs, n))
	GAE(t.adv, t.ret, t.rewards, t.values, t.dones, t.nextValue, n, c.Gamma, c.GAELambda)
}

// learn runs UpdateEpochs passes of minibatch gradient steps over the rollout.
func (t *Trainer) learn() Stats {
	c := t.Config
	d := t.obsDim
	b, m := c.BatchSize(), c.MinibatchSize()
	for i := range t.perm {
		t.perm[i] = i
	}
	var s Stats
	var clipSum float64
	var clipN int
	for range c.UpdateEpochs {
		t.rng.Shuffle(b, func(i, j int) { t.perm[i], t.perm[j] = t.perm[j], t.perm[i] })
		for start := 0; start < b; start += m {
			idx := t.perm[start : start+m]
			for r, k := range idx {
				copy(t.mbObs[r*d:(r+1)*d], t.obs[k*d:(k+1)*d])
				t.mbAdv[r] = t.adv[k]
			}
			if c.NormAdv {
				mean, std := meanStd(t.mbAdv)
				for r := range t.mbAdv {
					t.mbAdv[r] = (t.mbAdv[r] - mean) / (std + 1e-8)
				}
			}
			l := t.minibatchGrad(idx)
			nn.ClipGradNorm(c.MaxGradNorm, t.Actor.Grads, t.Critic.Grads)
			t.ActorOpt.Update(t.Actor.Params, t.Actor.Grads)
			t.CriticOpt.Update(t.Critic.Params, t.Critic.Grads)

			s.PolicyLoss, s.ValueLoss, s.Entropy = l.policy, l.value, l.entropy
			s.OldApproxKL, s.ApproxKL = l.oldApproxKL, l.approxKL
			clipSum += l.clipFrac
			clipN++
		}
		if c.TargetKL > 0 && s.ApproxKL > c.TargetKL {
			break
		}
	}
	s.ClipFrac = clipSum / float64(clipN)
	s.ExplainedVariance = explainedVariance(t.values, t.ret)
	return s
}

// minibatchLosses are a minibatch's mean loss terms and diagnostics.
type minibatchLosses struct {
	policy, value, entropy, oldApproxKL, approxKL, clipFrac float64
}

// total is CleanRL's loss: pg_loss - ent_coef*entropy + vf_coef*v_loss.
func (l minibatchLosses) total(c Config) float64 {
	return l.policy - c.EntCoef*l.entropy + c.VFCoef*l.value
}

// minibatchGrad computes the losses of the rollout samples idx, whose observations and
// (normalised) advantages are in mbObs and mbAdv, and sets Actor.Grads and Critic.Grads
// to the gradient of their total.
func (t *Trainer) minibatchGrad(idx []int) minibatchLosses {
	c := t.Config
	a, m := t.nAct, len(idx)
	obs := t.mbObs[:m*t.obsDim]
	logits := t.Actor.Forward(obs, m)
	values := t.Critic.Forward(obs, m)
	inv := 1 / float64(m)
	var pg, vl, ent, oldKL, kl, clipped float64
	for r, k := range idx {
		l := logits[r*a : (r+1)*a]
		dl := t.dLogits[r*a : (r+1)*a]
		logRatio := nn.LogProb(l, t.actions[k]) - t.logProbs[k]
		ratio := math.Exp(logRatio)
		oldKL -= logRatio
		kl += (ratio - 1) - logRatio
		if math.Abs(ratio-1) > c.ClipCoef {
			clipped++
		}
		pl, dRatio := clippedSurrogate(t.mbAdv[r], ratio, c.ClipCoef)
		pg += pl
		// d loss/d logits = dRatio·ρ·(onehot − p)/m − ent_coef·(dH/dlogits)/m
		nn.LogProbGrad(dl, l, t.actions[k])
		g := dRatio * ratio * inv
		for j := range dl {
			dl[j] *= g
		}
		ent += nn.Entropy(l)
		nn.EntropyGrad(t.entGrad, l)
		for j, gh := range t.entGrad {
			dl[j] -= c.EntCoef * inv * gh
		}
		v, dv := clippedValueLoss(values[r], t.values[k], t.ret[k], c.ClipCoef, c.ClipVLoss)
		vl += v
		t.dVals[r] = c.VFCoef * dv * inv
	}
	t.Actor.ZeroGrad()
	t.Critic.ZeroGrad()
	t.Actor.Backward(t.dLogits[:m*a])
	t.Critic.Backward(t.dVals[:m])
	return minibatchLosses{policy: pg * inv, value: vl * inv, entropy: ent * inv,
		oldApproxKL: oldKL * inv, approxKL: kl * inv, clipFrac: clipped * inv}
}
