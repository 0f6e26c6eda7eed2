package dqn

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/env"
)

// poleExpert pushes the cart towards where the pole is falling: right when
// angle + angular velocity > 0. It balances CartPole-v1 for most of 500 steps and
// sometimes drops it.
func poleExpert(obs []float64) int {
	if obs[2]+obs[3] > 0 {
		return 1
	}
	return 0
}

// cartPoleDemos rolls poleExpert out for episodes CartPole-v1 episodes, the i-th
// reset with seed+i.
func cartPoleDemos(seed uint64, episodes int) []learner.Demonstration {
	e := env.NewCartPoleV1()
	var out []learner.Demonstration
	for i := range episodes {
		obs, _ := e.Reset(seed + uint64(i))
		d := learner.Demonstration{Expert: true}
		for {
			a := poleExpert(obs)
			d.Obs, d.Actions = append(d.Obs, obs...), append(d.Actions, a)
			var r float64
			var term, trunc bool
			obs, r, term, trunc, _ = e.Step(a)
			d.Rewards = append(d.Rewards, r)
			if term || trunc {
				d.Truncated = trunc
				break
			}
		}
		out = append(out, d)
	}
	return out
}

// imitationConfig is the warm start's fit used in these tests.
var imitationConfig = learner.Imitation{Epochs: 10, LearningRate: 3e-3, MinibatchSize: 64, Seed: 5}

// shapeEnv is an environment of dim-dimensional observations and n actions whose
// episodes last one step; only its shape matters here.
type shapeEnv struct{ dim, n int }

func (e shapeEnv) ObservationSpace() env.Box {
	return env.Box{Low: make([]float64, e.dim), High: slices.Repeat([]float64{1}, e.dim)}
}
func (e shapeEnv) ActionSpace() env.Discrete          { return env.Discrete{N: e.n} }
func (e shapeEnv) Reset(uint64) ([]float64, env.Info) { return make([]float64, e.dim), env.Info{} }
func (e shapeEnv) Step(int) ([]float64, float64, bool, bool, env.Info) {
	return make([]float64, e.dim), 0, true, false, env.Info{}
}

// slowImitationLoss is the imitation loss computed row by row from its definition,
// with the kinks' distances: the smallest gap between the two largest
// Q(s,a) + l(a_E,a) and between |δ| and the Huber threshold.
func slowImitationLoss(tr *Trainer, b *demoSet) (margin, td float64, kink float64) {
	c := tr.Config
	nA := tr.Q.Out()
	kink = math.Inf(1)
	var nTD int
	for r := range b.n {
		e := b.labels[r]
		q := slices.Clone(tr.Q.Forward(b.row(b.obs, r), 1))
		aug := make([]float64, nA)
		for a := range aug {
			aug[a] = q[a]
			if a != e {
				aug[a] += Margin
			}
		}
		sorted := slices.Clone(aug)
		slices.Sort(sorted)
		kink = min(kink, sorted[nA-1]-sorted[nA-2])
		margin += slices.Max(aug) - q[e]
		if !b.transition[r] {
			continue
		}
		next := b.row(b.next, r)
		qt := tr.Target.Forward(next, 1)
		v := slices.Max(qt)
		if c.DoubleDQN {
			v = qt[nn.Argmax(tr.Q.Forward(next, 1))]
		}
		y := b.rewards[r] + c.Gamma*(1-b.terminated[r])*v
		d := q[e] - y
		if c.Loss == "mse" {
			td += d * d
		} else {
			kink = min(kink, math.Abs(math.Abs(d)-c.HuberDelta))
			if math.Abs(d) <= c.HuberDelta {
				td += 0.5 * d * d
			} else {
				td += c.HuberDelta * (math.Abs(d) - 0.5*c.HuberDelta)
			}
		}
		nTD++
	}
	return margin / float64(b.n), td / float64(nTD), kink
}

// TestImitationLossGradient checks the margin and TD losses against their
// definitions row by row, and the gradient of their sum with respect to every
// parameter of the Q-network against central finite differences (the target
// network held fixed, as the TD target is a constant).
func TestImitationLossGradient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		loss   string
		double bool
	}{{"huber", "huber", false}, {"mse double", "mse", true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Hidden, cfg.Activation, cfg.Loss, cfg.DoubleDQN, cfg.Gamma, cfg.Seed = []int{6, 5}, "tanh", tc.loss, tc.double, 0.9, 11
			tr, err := NewTrainer(shapeEnv{dim: 3, n: 4}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			for i := range tr.Target.Params { // a target network apart from the online one
				tr.Target.Params[i] += 0.3 * rng.NormFloat64()
			}
			const rows = 9
			b := newDemoSet(rows, 3)
			for r := range rows {
				for j := range 3 {
					b.obs[r*3+j], b.next[r*3+j] = rng.NormFloat64(), rng.NormFloat64()
				}
				b.labels[r] = rng.IntN(4)
				b.transition[r] = r%3 != 2 // rows 2, 5, 8 without a transition
				b.rewards[r] = 2 * rng.NormFloat64()
				if r%4 == 0 {
					b.terminated[r] = 1
				}
			}
			w := newImitationWork(rows, 4)
			margin, td, nTD, _ := w.loss(tr, b, true)
			grads := slices.Clone(tr.Q.Grads)
			slowMargin, slowTD, kink := slowImitationLoss(tr, b)
			if nTD != 6 || math.Abs(margin-slowMargin) > 1e-12 || math.Abs(td-slowTD) > 1e-12 {
				t.Fatalf("margin %v TD %v over %d transitions, by definition %v and %v over 6", margin, td, nTD, slowMargin, slowTD)
			}
			if margin <= 0 || td <= 0 {
				t.Fatalf("margin %v, TD %v: the test data should exercise both", margin, td)
			}
			if kink < 1e-3 {
				t.Fatalf("a kink of the loss %.2g from the test point: finite differences would cross it", kink)
			}
			worst := 0.0
			for i := range tr.Q.Params {
				p := tr.Q.Params[i]
				f := func(v float64) float64 {
					tr.Q.Params[i] = v
					m, d, _, _ := w.loss(tr, b, false)
					return m + d
				}
				num := fivePoint(f, p, 1e-5)
				tr.Q.Params[i] = p
				e := math.Abs(grads[i]-num) / max(math.Abs(grads[i]), math.Abs(num), 1e-4)
				worst = max(worst, e)
				if e > 1e-6 {
					t.Errorf("param %d: gradient %.12g, finite difference %.12g, rel error %.2g", i, grads[i], num, e)
				}
			}
			t.Logf("worst relative error over %d parameters: %.2g", len(tr.Q.Params), worst)
		})
	}
}

// fivePoint is the fourth-order central difference of f at x with step h.
func fivePoint(f func(float64) float64, x, h float64) float64 {
	return (-f(x+2*h) + 8*f(x+h) - 8*f(x-h) + f(x-2*h)) / (12 * h)
}

// newCartPoleLearner is the dqn learner of cfg on CartPole-v1.
func newCartPoleLearner(t *testing.T, cfg Config) *dqnLearner {
	t.Helper()
	l, err := Algorithm().New(&cfg, learner.Run{NewEnv: func(int) env.Env { return env.NewCartPoleV1() }})
	if err != nil {
		t.Fatal(err)
	}
	return l.(*dqnLearner)
}

// heldOutAgreement is the share of the held-out steps where the agent's greedy action
// is the expert's.
func heldOutAgreement(ag *Agent, held []learner.Demonstration) float64 {
	hits, n := 0, 0
	for _, d := range held {
		for k, a := range d.Actions {
			if ag.Greedy(d.Obs[k*4:(k+1)*4]) == a {
				hits++
			}
			n++
		}
	}
	return float64(hits) / float64(n)
}

// TestImitateClonesTheExpert: after the warm start the greedy action agrees with the
// expert on most held-out states, where the untrained network does not, and balances
// the pole; the TD loss falls; the target network is the fitted one; the replay
// buffer holds the expert's transitions; the run's generator, optimiser and step
// count are as before.
func TestImitateClonesTheExpert(t *testing.T) {
	cfg := smallConfig(7)
	l := newCartPoleLearner(t, cfg)
	tr := l.t
	train, held := cartPoleDemos(0, 8), cartPoleDemos(100, 3) // seeds 5 and 6 drop the pole
	var terminated, transitions int
	for _, d := range train {
		transitions += len(d.Actions) - 1
		if !d.Truncated {
			terminated++
			transitions++
		}
	}
	if terminated == 0 || terminated == len(train) {
		t.Fatalf("%d of %d expert episodes terminated: want both kinds", terminated, len(train))
	}
	pcg, _ := tr.PCG.MarshalBinary()
	untrained := Evaluate(env.NewCartPoleV1(), tr.Agent(), 5, 1000)
	for _, d := range slices.Concat(train, held) {
		l.Observe(d.Obs)
	}
	rows, err := l.Imitate(train, held, imitationConfig)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 11 || rows[0].Epoch != 0 || rows[10].Epoch != 10 {
		t.Fatalf("%d report rows, want epochs 0 to 10", len(rows))
	}
	first, last := rows[0], rows[len(rows)-1]
	cloned := Evaluate(env.NewCartPoleV1(), tr.Agent(), 5, 1000)
	t.Logf("held-out agreement %.3f -> %.3f, margin loss %.3f -> %.3f, TD loss %.4f -> %.4f, greedy return %.1f -> %.1f",
		first.HeldOutAccuracy, last.HeldOutAccuracy, first.Loss, last.Loss, first.ValueLoss, last.ValueLoss, untrained, cloned)
	if first.HeldOutAccuracy > 0.7 || last.HeldOutAccuracy < 0.9 {
		t.Fatalf("held-out agreement with the expert %.3f before, %.3f after: want <= 0.7 before, >= 0.9 after", first.HeldOutAccuracy, last.HeldOutAccuracy)
	}
	if !(last.Loss < first.Loss/2) || !(last.ValueLoss < first.ValueLoss) {
		t.Fatalf("margin loss %v -> %v, TD loss %v -> %v: want both to fall (the margin's by half)", first.Loss, last.Loss, first.ValueLoss, last.ValueLoss)
	}
	if untrained > 100 || cloned < 300 {
		t.Fatalf("greedy return %.1f untrained, %.1f cloned: want <= 100 and >= 300", untrained, cloned)
	}
	if got := heldOutAgreement(tr.Agent(), held); math.Abs(got-last.HeldOutAccuracy) > 1e-12 {
		t.Fatalf("greedy agent agrees on %.4f of held-out steps, the fit reported %.4f", got, last.HeldOutAccuracy)
	}
	if !slices.Equal(tr.Q.Params, tr.Target.Params) {
		t.Fatal("target network is not the fitted one")
	}
	r := tr.Replay
	if r.Len != transitions || r.Pos != transitions%r.Cap {
		t.Fatalf("replay holds %d transitions at %d, want the expert's %d", r.Len, r.Pos, transitions)
	}
	// Transition 0 is the first step of the first episode, which goes on.
	d := train[0]
	if !slices.Equal(r.Obs[:4], d.Obs[:4]) || !slices.Equal(r.NextObs[:4], d.Obs[4:8]) || int(r.Actions[0]) != d.Actions[0] ||
		r.Rewards[0] != d.Rewards[0] || r.Terminated[0] {
		t.Fatal("replay slot 0 is not the expert's first transition")
	}
	// The last stored transition ends the last episode: terminal if it terminated.
	if lastEp := train[len(train)-1]; r.Terminated[transitions-1] != !lastEp.Truncated {
		t.Fatalf("last transition terminal %v, the episode truncated %v", r.Terminated[transitions-1], lastEp.Truncated)
	}
	if after, _ := tr.PCG.MarshalBinary(); !bytes.Equal(pcg, after) {
		t.Fatal("imitation drew from the run's generator")
	}
	if tr.GlobalStep != 0 || tr.Updates != 0 || tr.Opt.T != 0 {
		t.Fatalf("imitation counted %d steps, %d updates, %d optimiser steps", tr.GlobalStep, tr.Updates, tr.Opt.T)
	}
	if m := l.Export(); m.Normaliser != nil || !slices.Equal(m.Params, tr.Q.Params) {
		t.Fatal("exported model is not the fitted network on raw observations")
	}
}

// TestImitateDemonstrationSet: an episode's steps give transitions to the next step;
// a terminated episode's last step is terminal; a truncated one's gives none; the
// learner's own steps (a DAgger round) give labels but no transitions.
func TestImitateDemonstrationSet(t *testing.T) {
	tr, err := NewTrainer(shapeEnv{dim: 1, n: 2}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	s, err := tr.demoSet([]learner.Demonstration{
		{Obs: []float64{1, 2, 3}, Actions: []int{0, 1, 0}, Rewards: []float64{10, 20, 30}, Expert: true},
		{Obs: []float64{4, 5}, Actions: []int{1, 1}, Rewards: []float64{40, 50}, Expert: true, Truncated: true},
		{Obs: []float64{6, 7}, Actions: []int{0, 0}, Rewards: []float64{60, 70}, Truncated: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.n != 7 || !slices.Equal(s.obs, []float64{1, 2, 3, 4, 5, 6, 7}) || !slices.Equal(s.labels, []int{0, 1, 0, 1, 1, 0, 0}) {
		t.Fatalf("rows %d, observations %v, labels %v", s.n, s.obs, s.labels)
	}
	if want := []bool{true, true, true, true, false, false, false}; !slices.Equal(s.transition, want) {
		t.Fatalf("transitions %v, want %v", s.transition, want)
	}
	if !slices.Equal(s.next[:4], []float64{2, 3, 0, 5}) || !slices.Equal(s.terminated[:4], []float64{0, 0, 1, 0}) ||
		!slices.Equal(s.rewards[:4], []float64{10, 20, 30, 40}) {
		t.Fatalf("next %v, terminated %v, rewards %v", s.next[:4], s.terminated[:4], s.rewards[:4])
	}
}

// TestImitateErrors: a bad fit configuration, demonstrations of the wrong shape, none
// at all, or a trainer that has already taken steps are errors naming what is wrong.
func TestImitateErrors(t *testing.T) {
	demos := cartPoleDemos(1, 1)
	bad := func(f func(*learner.Demonstration)) []learner.Demonstration {
		d := demos[0]
		d.Obs, d.Actions, d.Rewards = slices.Clone(d.Obs), slices.Clone(d.Actions), slices.Clone(d.Rewards)
		f(&d)
		return []learner.Demonstration{d}
	}
	for _, tc := range []struct {
		name        string
		train, held []learner.Demonstration
		fit         func(*learner.Imitation)
		want        string
	}{
		{"negative epochs", demos, nil, func(c *learner.Imitation) { c.Epochs = -1 }, "epochs -1"},
		{"zero learning rate", demos, nil, func(c *learner.Imitation) { c.LearningRate = 0 }, "learning rate 0"},
		{"NaN learning rate", demos, nil, func(c *learner.Imitation) { c.LearningRate = math.NaN() }, "learning rate NaN"},
		{"zero minibatch", demos, nil, func(c *learner.Imitation) { c.MinibatchSize = 0 }, "minibatch size 0"},
		{"no steps", nil, nil, nil, "no demonstration steps"},
		{"short observations", bad(func(d *learner.Demonstration) { d.Obs = d.Obs[1:] }), nil, nil, "train: episode 0"},
		{"missing reward", bad(func(d *learner.Demonstration) { d.Rewards = d.Rewards[1:] }), nil, nil, "rewards for dimension 4"},
		{"action out of range", demos, bad(func(d *learner.Demonstration) { d.Actions[3] = 2 }), nil, "held out: episode 0 step 3: action 2 of 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newCartPoleLearner(t, smallConfig(1))
			c := imitationConfig
			if tc.fit != nil {
				tc.fit(&c)
			}
			_, err := l.Imitate(tc.train, tc.held, c)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "dqn: imitation") {
				t.Fatalf("error %v, want one starting dqn: imitation and containing %q", err, tc.want)
			}
			if l.t.Replay.Len != 0 || !slices.Equal(l.t.Target.Params, l.t.Q.Params) {
				t.Fatal("a refused imitation changed the trainer")
			}
		})
	}
	l := newCartPoleLearner(t, smallConfig(1))
	l.Update()
	if _, err := l.Imitate(demos, nil, imitationConfig); err == nil || !strings.Contains(err.Error(), "after 1 environment steps") {
		t.Fatalf("imitation after a step: error %v", err)
	}
}

// TestWarmStartedResume: a warm-started run snapshotted right after the imitation
// (where the training loop checkpoints) or in the middle of reinforcement learning,
// and restored into a freshly built learner, goes on to the same bytes as the run
// that was not interrupted; the same seed gives the same bytes, another imitation
// seed another network.
func TestWarmStartedResume(t *testing.T) {
	cfg := smallConfig(9)
	train, held := cartPoleDemos(300, 3), cartPoleDemos(400, 1)
	warm := func(fit learner.Imitation) *dqnLearner {
		l := newCartPoleLearner(t, cfg)
		if _, err := l.Imitate(train, held, fit); err != nil {
			t.Fatal(err)
		}
		return l
	}
	run := func(l *dqnLearner, steps int) {
		for range steps {
			l.Update()
		}
	}
	snapshot := func(l *dqnLearner) []byte {
		b, err := l.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := warm(imitationConfig)
	atStart := snapshot(a)
	run(a, 800)
	mid := snapshot(a)
	run(a, 700)
	want := snapshot(a)
	if a.t.Updates == 0 {
		t.Fatal("no gradient steps in the run: the test would prove little")
	}

	for _, tc := range []struct {
		name  string
		from  []byte
		steps int
	}{{"after the imitation", atStart, 1500}, {"mid-run", mid, 700}} {
		t.Run(tc.name, func(t *testing.T) {
			b := newCartPoleLearner(t, cfg)
			if err := b.Restore(tc.from); err != nil {
				t.Fatal(err)
			}
			run(b, tc.steps)
			if !bytes.Equal(snapshot(b), want) {
				t.Fatal("restored run's state differs from the uninterrupted run's")
			}
		})
	}

	again := warm(imitationConfig)
	if !bytes.Equal(snapshot(again), atStart) {
		t.Fatal("same seed, different state after the imitation")
	}
	run(again, 1500)
	if !bytes.Equal(snapshot(again), want) {
		t.Fatal("same seed, different state after reinforcement learning")
	}
	other := imitationConfig
	other.Seed++
	if slices.Equal(warm(other).t.Q.Params, warm(imitationConfig).t.Q.Params) {
		t.Fatal("another imitation seed gave the same network")
	}
	cold := newCartPoleLearner(t, cfg)
	run(cold, 1500)
	if bytes.Equal(snapshot(cold), want) {
		t.Fatal("the warm start changed nothing")
	}
}
