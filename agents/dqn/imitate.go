package dqn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/nn"
)

// Margin is the large margin l(a_E, a) of the supervised loss for every action a other
// than the expert's a_E (0 for a_E itself), in return units: Hester et al. 2018 (Deep
// Q-learning from Demonstrations), section 3, use 0.8.
const Margin = 0.8

// imitateStream is the PCG stream of the imitation's minibatch order, apart from the
// run's generator: a warm start leaves the draws of reinforcement learning (exploration,
// replay sampling, reset seeds) as they would be without it.
const imitateStream = 0x696d6974 // "imit"

// evalChunk bounds the rows of one forward pass when measuring the fit.
const evalChunk = 1024

// Observe is a no-op (learner.Imitator): DQN's Q-network takes raw observations and
// keeps no observation statistics.
func (l *dqnLearner) Observe([]float64) {}

// Imitate is the learner's warm start (learner.Imitator): Trainer.Imitate.
func (l *dqnLearner) Imitate(train, heldOut []learner.Demonstration, c learner.Imitation) ([]learner.ImitationEpoch, error) {
	return l.t.Imitate(train, heldOut, c)
}

// Imitate is DQfD's pre-training phase (Hester et al. 2018), written plainly: the
// Q-network is fitted on the demonstrations by minibatch Adam (fresh moments, the
// configuration's AdamEps and MaxGradNorm) on the sum of
//
//   - the large-margin supervised loss, mean over the steps of
//     max_a [Q(s,a) + l(a_E,a)] − Q(s,a_E) with l = Margin off the expert's action a_E,
//     which makes the expert's action the greedy one by at least the margin; and
//   - the 1-step TD loss (the configuration's Loss, Double DQN if set), mean over the
//     expert's own transitions (Demonstration.Expert): r + γ·max_a Qtarget(s',a) against
//     Q(s,a_E), with no bootstrap after a terminated episode's last step. The last step
//     of a truncated episode has no next observation in the data and gives no
//     transition. This puts the Q-values on the scale of the expert's returns, so that
//     the TD updates of reinforcement learning start from the clone's values rather
//     than from arbitrary ones. (For the expert's episodes the action taken is a_E.)
//
// DQfD's n-step return and L2 terms are left out. The target network is the online
// one as it stood at the start of each epoch (DQfD refreshes it on a fixed period of
// gradient steps; an epoch is the period here), and is the fitted network at the end.
// The replay buffer is then emptied and filled with the expert's transitions of train
// (the last BufferSize of them), so that the first gradient steps of reinforcement
// learning sample them; reinforcement learning then overwrites them as any others. The
// minibatches are drawn from the imitation's own generator (c.Seed); the run's
// generator, the RL optimiser, the step count and the exploration schedule are
// untouched. Imitate comes before reinforcement learning: it refuses a trainer that has
// taken steps. It reports one row before fitting (Epoch 0) and one per epoch: Loss is
// the mean margin loss over train and ValueLoss the mean TD loss over its expert
// transitions (NaN for none), both with the network as it stands as the target.
// c.Interrupt is asked before every minibatch (learner.ErrInterrupted).
func (t *Trainer) Imitate(train, heldOut []learner.Demonstration, c learner.Imitation) ([]learner.ImitationEpoch, error) {
	if c.Epochs < 0 || !(c.LearningRate > 0) || c.MinibatchSize < 1 {
		return nil, fmt.Errorf("dqn: imitation: epochs %d, learning rate %v, minibatch size %d: want epochs >= 0, learning rate > 0, minibatch size >= 1",
			c.Epochs, c.LearningRate, c.MinibatchSize)
	}
	if t.GlobalStep > 0 {
		return nil, fmt.Errorf("dqn: imitation after %d environment steps: a warm start comes before reinforcement learning", t.GlobalStep)
	}
	tr, err := t.demoSet(train)
	if err != nil {
		return nil, fmt.Errorf("dqn: imitation: train: %w", err)
	}
	if tr.n == 0 {
		return nil, fmt.Errorf("dqn: imitation: no demonstration steps")
	}
	ho, err := t.demoSet(heldOut)
	if err != nil {
		return nil, fmt.Errorf("dqn: imitation: held out: %w", err)
	}
	cfg := &t.Config
	rng := rand.New(rand.NewPCG(c.Seed, imitateStream))
	opt := nn.NewAdam(len(t.Q.Params), c.LearningRate)
	opt.Eps = cfg.AdamEps
	m := min(c.MinibatchSize, tr.n)
	w := newImitationWork(max(m, min(evalChunk, max(tr.n, ho.n))), t.Q.Out())
	mb := newDemoSet(m, tr.dim)

	report := func(epoch int) learner.ImitationEpoch {
		margin, td, acc := w.measure(t, tr)
		_, _, hacc := w.measure(t, ho)
		return learner.ImitationEpoch{Epoch: epoch, Loss: margin, ValueLoss: td, Accuracy: acc, HeldOutAccuracy: hacc}
	}
	t.Target.CopyFrom(t.Q)
	out := []learner.ImitationEpoch{report(0)}
	perm := make([]int, tr.n)
	for epoch := 1; epoch <= c.Epochs; epoch++ {
		for i := range perm {
			perm[i] = i
		}
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for start := 0; start < len(perm); start += m {
			if c.Interrupted() {
				return nil, learner.ErrInterrupted
			}
			mb.gather(tr, perm[start:min(start+m, len(perm))])
			w.loss(t, mb, true)
			if cfg.MaxGradNorm > 0 {
				nn.ClipGradNorm(cfg.MaxGradNorm, t.Q.Grads)
			}
			opt.Update(t.Q.Params, t.Q.Grads)
		}
		t.Target.CopyFrom(t.Q)
		out = append(out, report(epoch))
	}

	// Pre-fill the replay buffer with the expert's transitions.
	t.Replay.Clear()
	for i := range tr.n {
		if tr.transition[i] {
			t.Replay.Add(tr.row(tr.obs, i), tr.labels[i], tr.rewards[i], tr.row(tr.next, i), tr.terminated[i] == 1)
		}
	}
	return out, nil
}

// demoSet is demonstration steps in flat arrays. Row i is a step's observation and the
// expert's action; when transition[i] is set, it is also the 1-step transition taken
// from it (the expert's action, its reward, the next observation and whether that
// ended the episode).
type demoSet struct {
	n, dim     int
	obs, next  []float64 // n×dim
	labels     []int
	transition []bool
	rewards    []float64
	terminated []float64 // 1 when next is terminal (no bootstrap), else 0
}

func newDemoSet(n, dim int) *demoSet {
	return &demoSet{n: n, dim: dim, obs: make([]float64, n*dim), next: make([]float64, n*dim), labels: make([]int, n),
		transition: make([]bool, n), rewards: make([]float64, n), terminated: make([]float64, n)}
}

func (s *demoSet) row(x []float64, i int) []float64 { return x[i*s.dim : (i+1)*s.dim] }

// slice returns rows [lo, hi) of s, sharing its arrays.
func (s *demoSet) slice(lo, hi int) *demoSet {
	d := s.dim
	return &demoSet{n: hi - lo, dim: d, obs: s.obs[lo*d : hi*d], next: s.next[lo*d : hi*d], labels: s.labels[lo:hi],
		transition: s.transition[lo:hi], rewards: s.rewards[lo:hi], terminated: s.terminated[lo:hi]}
}

// gather sets s (allocated for at least len(idx) rows) to the rows idx of src.
func (s *demoSet) gather(src *demoSet, idx []int) {
	s.n = len(idx)
	for r, i := range idx {
		copy(s.row(s.obs, r), src.row(src.obs, i))
		copy(s.row(s.next, r), src.row(src.next, i))
		s.labels[r], s.transition[r], s.rewards[r], s.terminated[r] = src.labels[i], src.transition[i], src.rewards[i], src.terminated[i]
	}
}

// demoSet checks demonstrations against the network's shape and flattens them.
func (t *Trainer) demoSet(demos []learner.Demonstration) (*demoSet, error) {
	d, nA := t.Q.In(), t.Q.Out()
	total := 0
	for i, dm := range demos {
		n := len(dm.Actions)
		if len(dm.Obs) != n*d || len(dm.Rewards) != n {
			return nil, fmt.Errorf("episode %d: %d observation values, %d actions, %d rewards for dimension %d", i, len(dm.Obs), n, len(dm.Rewards), d)
		}
		for k, a := range dm.Actions {
			if a < 0 || a >= nA {
				return nil, fmt.Errorf("episode %d step %d: action %d of %d", i, k, a, nA)
			}
		}
		total += n
	}
	s := newDemoSet(total, d)
	row := 0
	for _, dm := range demos {
		n := len(dm.Actions)
		copy(s.obs[row*d:], dm.Obs)
		copy(s.labels[row:], dm.Actions)
		if dm.Expert {
			for k := range n {
				i := row + k
				s.rewards[i] = dm.Rewards[k]
				switch {
				case k+1 < n:
					s.transition[i] = true
					copy(s.row(s.next, i), dm.Obs[(k+1)*d:(k+2)*d])
				case !dm.Truncated: // terminated: next stays zero, never bootstrapped from
					s.transition[i], s.terminated[i] = true, 1
				}
			}
		}
		row += n
	}
	return s, nil
}

// imitationWork holds the workspaces of the imitation loss for up to rows rows.
type imitationWork struct {
	targets  []float64 // TD targets, one per row
	nextQ    []float64 // online Q(s', ·), for Double DQN
	dy       []float64 // ∂loss/∂Q(s, ·)
	pred     []float64 // Q(s, a_E) of the rows with a transition
	tdTarget []float64 // their targets
	gradPred []float64 // ∂(TD loss)/∂pred
	tdRows   []int     // the rows with a transition
}

func newImitationWork(rows, nA int) *imitationWork {
	return &imitationWork{targets: make([]float64, rows), nextQ: make([]float64, rows*nA), dy: make([]float64, rows*nA),
		pred: make([]float64, rows), tdTarget: make([]float64, rows), gradPred: make([]float64, rows), tdRows: make([]int, 0, rows)}
}

// loss evaluates the imitation loss on the b.n rows of b: margin is the mean over the
// rows of max_a [Q(s,a) + l(a_E,a)] − Q(s,a_E), td the mean TD loss over the rows with
// a transition (its target from the target network, a constant; 0 when there are
// none), hits the rows whose greedy action is a_E. With grad set it writes the
// gradient of margin + td with respect to the Q-network's parameters into Q.Grads.
func (w *imitationWork) loss(t *Trainer, b *demoSet, grad bool) (margin, td float64, nTD, hits int) {
	c := &t.Config
	k, nA := b.n, t.Q.Out()
	w.tdRows = w.tdRows[:0]
	for r := range k {
		if b.transition[r] {
			w.tdRows = append(w.tdRows, r)
		}
	}
	if len(w.tdRows) > 0 {
		var online []float64
		if c.DoubleDQN {
			copy(w.nextQ, t.Q.Forward(b.next[:k*b.dim], k))
			online = w.nextQ[:k*nA]
		}
		tdTargets(w.targets[:k], b.rewards[:k], b.terminated[:k], t.Target.Forward(b.next[:k*b.dim], k), online, nA, c.Gamma)
	}

	q := t.Q.Forward(b.obs[:k*b.dim], k)
	dy := w.dy[:k*nA]
	clear(dy)
	inv := 1 / float64(k)
	for r := range k {
		row, e := q[r*nA:(r+1)*nA], b.labels[r]
		best, top := 0, math.Inf(-1)
		for a, v := range row {
			if a != e {
				v += Margin
			}
			if v > top {
				best, top = a, v
			}
		}
		margin += top - row[e]
		dy[r*nA+best] += inv
		dy[r*nA+e] -= inv
		if nn.Argmax(row) == e {
			hits++
		}
	}
	margin *= inv

	if nTD = len(w.tdRows); nTD > 0 {
		pred, target, gp := w.pred[:nTD], w.tdTarget[:nTD], w.gradPred[:nTD]
		for j, r := range w.tdRows {
			pred[j], target[j] = q[r*nA+b.labels[r]], w.targets[r]
		}
		if c.Loss == "mse" {
			td = nn.MSELoss(gp, pred, target)
		} else {
			td = nn.HuberLoss(gp, pred, target, c.HuberDelta)
		}
		for j, r := range w.tdRows {
			dy[r*nA+b.labels[r]] += gp[j]
		}
	}
	if grad {
		t.Q.ZeroGrad()
		t.Q.Backward(dy)
	}
	return margin, td, nTD, hits
}

// measure is the margin loss and the TD loss over all of s and the share of its rows
// whose greedy action is the expert's (NaN for no rows, TD NaN for no transitions).
func (w *imitationWork) measure(t *Trainer, s *demoSet) (margin, td, accuracy float64) {
	if s.n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	var hits, nTD int
	for lo := 0; lo < s.n; lo += evalChunk {
		hi := min(lo+evalChunk, s.n)
		m, d, n, h := w.loss(t, s.slice(lo, hi), false)
		margin += m * float64(hi-lo)
		td += d * float64(n)
		hits, nTD = hits+h, nTD+n
	}
	td /= float64(nTD)
	if nTD == 0 {
		td = math.NaN()
	}
	return margin / float64(s.n), td, float64(hits) / float64(s.n)
}

var _ learner.Imitator = (*dqnLearner)(nil)
