package ppo

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/nn"
)

// imitateStream is the PCG stream of the imitation's minibatch order, apart from
// the trainer's generator: the warm start leaves the draws of reinforcement learning
// as they would be without it.
const imitateStream = 0x696d6974 // "imit"

// evalChunk bounds the rows of one forward pass when measuring the fit, so that the
// networks' workspaces stay at a rollout's size.
const evalChunk = 1024

// Observe folds raw observations into the observation statistics (learner.Imitator).
func (l *ppoLearner) Observe(obs []float64) {
	t := l.t
	if t.ObsRMS != nil && len(obs) >= t.obsDim {
		t.ObsRMS.Update(obs, len(obs)/t.obsDim)
	}
}

// Imitate is behaviour cloning (learner.Imitator): the actor is fitted to the
// expert's actions by cross-entropy, and the critic to the discounted returns
// (gamma) of the expert's own episodes by squared error, so that the first PPO update
// starts from advantages of the expert's level rather than of a random critic, which
// would push the clone away at once. Both use fresh Adam moments and the
// gradient-norm clip of the configuration; observations are normalised with the
// statistics as they stand (Observe them first). Then every copy is reset again as at
// the start, its first observation normalised with those statistics. c.Interrupt is
// asked before every minibatch (learner.ErrInterrupted); it does not reach the
// environments' reset: an interruption there is the caller's to notice.
func (l *ppoLearner) Imitate(train, heldOut []learner.Demonstration, c learner.Imitation) ([]learner.ImitationEpoch, error) {
	t := l.t
	if c.Epochs < 0 || !(c.LearningRate > 0) || c.MinibatchSize < 1 {
		return nil, fmt.Errorf("ppo: imitation: epochs %d, learning rate %v, minibatch size %d", c.Epochs, c.LearningRate, c.MinibatchSize)
	}
	x, y, vx, vy, err := t.imitationSet(train)
	if err != nil {
		return nil, fmt.Errorf("ppo: imitation: train: %w", err)
	}
	if len(y) == 0 {
		return nil, fmt.Errorf("ppo: imitation: no demonstration steps")
	}
	hx, hy, _, _, err := t.imitationSet(heldOut)
	if err != nil {
		return nil, fmt.Errorf("ppo: imitation: held out: %w", err)
	}
	d, a := t.obsDim, t.nAct
	rng := rand.New(rand.NewPCG(c.Seed, imitateStream))
	actorOpt := nn.NewAdam(len(t.Actor.Params), c.LearningRate)
	criticOpt := nn.NewAdam(len(t.Critic.Params), c.LearningRate)
	actorOpt.Eps, criticOpt.Eps = t.Config.AdamEps, t.Config.AdamEps

	m := min(c.MinibatchSize, len(y))
	mbX := make([]float64, m*d)
	dl := make([]float64, m*a)
	dv := make([]float64, m)
	mbY := make([]float64, m)
	report := func(epoch int) learner.ImitationEpoch {
		loss, acc := t.crossEntropy(x, y)
		_, hacc := t.crossEntropy(hx, hy)
		return learner.ImitationEpoch{Epoch: epoch, Loss: loss, Accuracy: acc, HeldOutAccuracy: hacc, ValueLoss: t.valueLoss(vx, vy)}
	}
	out := []learner.ImitationEpoch{report(0)}
	perm := make([]int, max(len(y), len(vy)))
	for epoch := 1; epoch <= c.Epochs; epoch++ {
		// The actor: cross-entropy, d loss / d logits = (softmax - onehot) / m.
		done := t.pass(x, perm[:len(y)], m, mbX, rng, c.Interrupted, func(idx []int, obs []float64) {
			k := len(idx)
			logits := t.Actor.Forward(obs, k)
			for r, i := range idx {
				g := dl[r*a : (r+1)*a]
				nn.LogProbGrad(g, logits[r*a:(r+1)*a], y[i])
				for j := range g {
					g[j] /= -float64(k)
				}
			}
			t.Actor.ZeroGrad()
			t.Actor.Backward(dl[:k*a])
			nn.ClipGradNorm(t.Config.MaxGradNorm, t.Actor.Grads)
			actorOpt.Update(t.Actor.Params, t.Actor.Grads)
		})
		// The critic: mean squared error on the expert's returns.
		done = done && t.pass(vx, perm[:len(vy)], m, mbX, rng, c.Interrupted, func(idx []int, obs []float64) {
			k := len(idx)
			for r, i := range idx {
				mbY[r] = vy[i]
			}
			v := t.Critic.Forward(obs, k)
			nn.MSELoss(dv[:k], v, mbY[:k])
			t.Critic.ZeroGrad()
			t.Critic.Backward(dv[:k])
			nn.ClipGradNorm(t.Config.MaxGradNorm, t.Critic.Grads)
			criticOpt.Update(t.Critic.Params, t.Critic.Grads)
		})
		if !done {
			return nil, learner.ErrInterrupted
		}
		out = append(out, report(epoch))
	}
	obs, _ := t.Envs.Reset(t.Config.Seed)
	t.observe(t.NextObs, obs, false)
	return out, nil
}

// pass is one epoch over the len(perm) rows of x in a random order: step is called
// on each minibatch of at most m rows with their indices and their observations
// gathered into mbX. It stops before a minibatch when stop reports true, and then
// returns false.
func (t *Trainer) pass(x []float64, perm []int, m int, mbX []float64, rng *rand.Rand, stop func() bool, step func(idx []int, obs []float64)) bool {
	d := t.obsDim
	for i := range perm {
		perm[i] = i
	}
	rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	for start := 0; start < len(perm); start += m {
		if stop() {
			return false
		}
		idx := perm[start:min(start+m, len(perm))]
		for r, i := range idx {
			copy(mbX[r*d:(r+1)*d], x[i*d:(i+1)*d])
		}
		step(idx, mbX[:len(idx)*d])
	}
	return true
}

// imitationSet flattens demonstrations into normalised observations x with the
// expert's actions y, and the observations vx of the expert's own episodes with
// their discounted returns vy. A truncated episode's tail is bootstrapped with the
// value of its mean reward forever, mean/(1-gamma).
func (t *Trainer) imitationSet(demos []learner.Demonstration) (x []float64, y []int, vx, vy []float64, err error) {
	d, g := t.obsDim, t.Config.Gamma
	for i, dm := range demos {
		n := len(dm.Actions)
		if len(dm.Obs) != n*d || len(dm.Rewards) != n {
			return nil, nil, nil, nil, fmt.Errorf("episode %d: %d observation values, %d actions, %d rewards for dimension %d", i, len(dm.Obs), n, len(dm.Rewards), d)
		}
		for k, act := range dm.Actions {
			if act < 0 || act >= t.nAct {
				return nil, nil, nil, nil, fmt.Errorf("episode %d step %d: action %d of %d", i, k, act, t.nAct)
			}
		}
		z := make([]float64, len(dm.Obs))
		t.observe(z, dm.Obs, false)
		x = append(x, z...)
		y = append(y, dm.Actions...)
		if !dm.Expert || n == 0 {
			continue
		}
		ret := make([]float64, n)
		next := 0.0
		if dm.Truncated {
			mean := 0.0
			for _, r := range dm.Rewards {
				mean += r
			}
			next = mean / float64(n) / (1 - g)
		}
		for k := n - 1; k >= 0; k-- {
			next = dm.Rewards[k] + g*next
			ret[k] = next
		}
		vx = append(vx, z...)
		vy = append(vy, ret...)
	}
	return x, y, vx, vy, nil
}

// crossEntropy is the actor's mean cross-entropy on the labels y of normalised
// observations x and the share of rows where its greedy action is the label (NaN,
// NaN for none).
func (t *Trainer) crossEntropy(x []float64, y []int) (loss, accuracy float64) {
	if len(y) == 0 {
		return math.NaN(), math.NaN()
	}
	d, a := t.obsDim, t.nAct
	var hits int
	for start := 0; start < len(y); start += evalChunk {
		k := min(evalChunk, len(y)-start)
		logits := t.Actor.Forward(x[start*d:(start+k)*d], k)
		for r := range k {
			l := logits[r*a : (r+1)*a]
			loss -= nn.LogProb(l, y[start+r])
			if nn.Argmax(l) == y[start+r] {
				hits++
			}
		}
	}
	n := float64(len(y))
	return loss / n, float64(hits) / n
}

// valueLoss is the critic's mean squared error on targets vy (NaN for none).
func (t *Trainer) valueLoss(vx, vy []float64) float64 {
	if len(vy) == 0 {
		return math.NaN()
	}
	d := t.obsDim
	var s float64
	for start := 0; start < len(vy); start += evalChunk {
		k := min(evalChunk, len(vy)-start)
		v := t.Critic.Forward(vx[start*d:(start+k)*d], k)
		for r := range k {
			e := v[r] - vy[start+r]
			s += e * e
		}
	}
	return s / float64(len(vy))
}

var _ learner.Imitator = (*ppoLearner)(nil)
