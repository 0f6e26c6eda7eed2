package ppo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/env"
)

// demonstrations are episodes of CartPole-shaped observations on very different
// scales, labelled by an expert that pushes towards where the pole falls
// (angle/0.2 + angular velocity/5 > 0), with reward -1 per step.
func demonstrations(rng *rand.Rand, episodes, length int) []learner.Demonstration {
	scales := []float64{100, 0.01, 0.2, 5}
	var out []learner.Demonstration
	for range episodes {
		d := learner.Demonstration{Expert: true, Truncated: true}
		for range length {
			for _, s := range scales {
				d.Obs = append(d.Obs, 3*s+s*rng.NormFloat64()) // off-centre too
			}
			o := d.Obs[len(d.Obs)-4:]
			act := 0
			if (o[2]-0.6)/0.2+(o[3]-15)/5 > 0 {
				act = 1
			}
			d.Actions = append(d.Actions, act)
			d.Rewards = append(d.Rewards, -1)
		}
		out = append(out, d)
	}
	return out
}

// TestImitateClonesTheExpert: after behaviour cloning the greedy action agrees with
// the expert on most held-out states, where the untrained actor does not; the value
// head learns the expert's returns; the statistics are the expert data's.
func TestImitateClonesTheExpert(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NumEnvs, cfg.NormalizeObs, cfg.Seed = 2, true, 3
	tr, err := NewTrainer(cfg, func(int) env.Env { return env.NewCartPoleV1() })
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	l := &ppoLearner{t: tr}
	rng := rand.New(rand.NewPCG(1, 2))
	train, held := demonstrations(rng, 40, 50), demonstrations(rng, 10, 50)
	for _, d := range slices.Concat(train, held) {
		l.Observe(d.Obs)
	}
	if m := tr.ObsRMS.Mean[0]; math.Abs(m-300) > 10 {
		t.Fatalf("observation mean %v after the expert data, want about 300", m)
	}
	rows, err := l.Imitate(train, held, learner.Imitation{Epochs: 20, LearningRate: 3e-3, MinibatchSize: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 21 || rows[0].Epoch != 0 || rows[20].Epoch != 20 {
		t.Fatalf("%d report rows, want epochs 0 to 20", len(rows))
	}
	first, last := rows[0], rows[len(rows)-1]
	t.Logf("held-out accuracy %.3f -> %.3f, value loss %.1f -> %.3f", first.HeldOutAccuracy, last.HeldOutAccuracy, first.ValueLoss, last.ValueLoss)
	if first.HeldOutAccuracy > 0.7 || last.HeldOutAccuracy < 0.9 {
		t.Fatalf("held-out agreement with the expert %.3f before, %.3f after: want <= 0.7 before, >= 0.9 after", first.HeldOutAccuracy, last.HeldOutAccuracy)
	}
	// Truncated episodes of reward -1 are worth -1/(1-gamma) from every state.
	if last.ValueLoss > first.ValueLoss/100 {
		t.Fatalf("value loss %v -> %v: the value head did not learn the returns", first.ValueLoss, last.ValueLoss)
	}
	// The exported policy (raw observations in) acts as the clone.
	p := tr.Policy()
	hits, n := 0, 0
	for _, d := range held {
		for k, a := range d.Actions {
			if p.Act(d.Obs[k*4:(k+1)*4]) == a {
				hits++
			}
			n++
		}
	}
	if got := float64(hits) / float64(n); math.Abs(got-last.HeldOutAccuracy) > 1e-12 {
		t.Fatalf("exported policy agrees on %.4f of held-out steps, the fit reported %.4f", got, last.HeldOutAccuracy)
	}
	if tr.GlobalStep != 0 || tr.Iteration != 0 {
		t.Fatalf("imitation counted %d steps, %d updates", tr.GlobalStep, tr.Iteration)
	}
	// The copies start again from their first episode, observed with the new
	// statistics.
	obs, _ := tr.Envs.Reset(cfg.Seed)
	want := make([]float64, len(obs))
	tr.observe(want, obs, false)
	if !slices.Equal(want, tr.NextObs) {
		t.Fatal("next observations not normalised with the statistics after imitation")
	}
}

// TestImitationReturns: the discounted returns of a terminated episode, and of a
// truncated one bootstrapped with its mean reward forever.
func TestImitationReturns(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NumEnvs, cfg.Gamma = 1, 0.5
	tr, err := NewTrainer(cfg, func(int) env.Env { return env.NewCartPoleV1() })
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	obs := make([]float64, 3*4)
	demos := []learner.Demonstration{
		{Obs: obs, Actions: []int{0, 1, 0}, Rewards: []float64{1, 2, 4}, Expert: true},
		{Obs: obs, Actions: []int{0, 1, 0}, Rewards: []float64{1, 2, 3}, Expert: true, Truncated: true},
		{Obs: obs, Actions: []int{1, 1, 1}, Rewards: []float64{9, 9, 9}}, // the learner's: no returns
	}
	_, y, _, vy, err := tr.imitationSet(demos)
	if err != nil {
		t.Fatal(err)
	}
	// Terminated: 4, 2+0.5*4, 1+0.5*4. Truncated: tail 2/(1-0.5) = 4, then 3+2, 2+2.5, 1+2.25.
	want := []float64{3, 4, 4, 3.25, 4.5, 5}
	if !slices.Equal(vy, want) || len(y) != 9 {
		t.Fatalf("returns %v (labels %d), want %v (9)", vy, len(y), want)
	}
	if _, _, _, _, err := tr.imitationSet([]learner.Demonstration{{Obs: obs, Actions: []int{0, 2, 0}, Rewards: []float64{0, 0, 0}}}); err == nil {
		t.Fatal("action 2 of CartPole's 2 accepted")
	}
}
