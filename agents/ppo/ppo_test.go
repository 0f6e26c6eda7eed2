package ppo

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/env"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestGAEHandComputed(t *testing.T) {
	// Two copies, three steps, γ = 0.9, λ = 0.5; index t*2+i.
	// Copy 0 terminates at t=1. Copy 1 is truncated at t=0 with reward 1 and
	// V(final obs) = 4, so its reward is folded to 1 + 0.9*4 = 4.6 and the step is done.
	rewards := []float64{1, 4.6, 2, 0, 3, 1}
	values := []float64{0.5, 2, 1.0, 1, 1.5, 1}
	done := []bool{false, true, true, false, false, false}
	next := []float64{2.0, 0}
	adv, ret := make([]float64, 6), make([]float64, 6)
	GAE(adv, ret, rewards, values, done, next, 2, 0.9, 0.5)
	// Copy 0: δ2 = 3 + 0.9*2 - 1.5 = 3.3; δ1 = 2 - 1 = 1 (terminal, no carry);
	// δ0 = 1 + 0.9*1 - 0.5 = 1.4, A0 = 1.4 + 0.45*1 = 1.85.
	// Copy 1: δ2 = 1 - 1 = 0; δ1 = 0 + 0.9*1 - 1 = -0.1, A1 = -0.1 + 0.45*0;
	// δ0 = 4.6 - 2 = 2.6 (done: no carry from A1).
	want := []float64{1.85, 2.6, 1.0, -0.1, 3.3, 0}
	for k := range want {
		if !near(adv[k], want[k], 1e-12) {
			t.Errorf("adv[%d] = %v, want %v", k, adv[k], want[k])
		}
		if !near(ret[k], want[k]+values[k], 1e-12) {
			t.Errorf("ret[%d] = %v, want %v", k, ret[k], want[k]+values[k])
		}
	}
	// λ = 1, γ = 1 with no done: advantages are returns-to-go plus the bootstrap minus V.
	adv1, ret1 := make([]float64, 3), make([]float64, 3)
	GAE(adv1, ret1, []float64{1, 2, 3}, []float64{0, 0, 0}, make([]bool, 3), []float64{10}, 1, 1, 1)
	for k, w := range []float64{16, 15, 13} {
		if adv1[k] != w {
			t.Errorf("λ=1: adv[%d] = %v, want %v", k, adv1[k], w)
		}
	}
}

func TestClippedSurrogate(t *testing.T) {
	cases := []struct{ adv, ratio, loss, dRatio float64 }{
		{2, 1.5, -2.4, 0},  // A>0, ρ above 1+ε: clipped, no gradient
		{2, 0.5, -1, -2},   // A>0, ρ below 1-ε: unclipped term is larger
		{-1, 1.5, 1.5, 1},  // A<0, ρ above 1+ε: unclipped term is larger
		{-1, 0.5, 0.8, 0},  // A<0, ρ below 1-ε: clipped
		{1, 1.1, -1.1, -1}, // inside the range
		{-3, 0.8, 2.4, 3},  // on the boundary: gradient flows
	}
	for _, c := range cases {
		l, d := clippedSurrogate(c.adv, c.ratio, 0.2)
		if !near(l, c.loss, 1e-12) || !near(d, c.dRatio, 1e-12) {
			t.Errorf("A=%v ρ=%v: loss %v dρ %v, want %v %v", c.adv, c.ratio, l, d, c.loss, c.dRatio)
		}
	}
}

func TestClippedValueLoss(t *testing.T) {
	cases := []struct {
		v, old, ret float64
		clip        bool
		loss, dv    float64
	}{
		{3, 1, 2, true, 0.5, 1},        // (v-R)² = 1 beats (1.2-2)² = 0.64
		{0, 1, 2, true, 2, -2},         // 4 beats (0.8-2)² = 1.44
		{2.5, 1, 2, true, 0.32, 0},     // clipped (1.2-2)² = 0.64 beats 0.25; clamp saturated
		{1.1, 1, 2, true, 0.405, -0.9}, // inside the clip range: plain
		{3, 1, 2, false, 0.5, 1},       // no clipping
	}
	for _, c := range cases {
		l, d := clippedValueLoss(c.v, c.old, c.ret, 0.2, c.clip)
		if !near(l, c.loss, 1e-12) || !near(d, c.dv, 1e-12) {
			t.Errorf("v=%v old=%v R=%v clip=%v: loss %v dv %v, want %v %v", c.v, c.old, c.ret, c.clip, l, d, c.loss, c.dv)
		}
	}
}

// stepEnv observes (k, 1) at step k, pays reward 1, and terminates at step termAt
// (never if 0).
type stepEnv struct {
	k, termAt int
	obs       [2]float64
}

func (s *stepEnv) ObservationSpace() env.Box {
	return env.Box{Low: []float64{0, 0}, High: []float64{1e9, 1}}
}
func (s *stepEnv) ActionSpace() env.Discrete { return env.Discrete{N: 3} }
func (s *stepEnv) Reset(uint64) ([]float64, env.Info) {
	s.k = 0
	s.obs = [2]float64{0, 1}
	return s.obs[:], env.Info{}
}
func (s *stepEnv) Step(int) ([]float64, float64, bool, bool, env.Info) {
	s.k++
	s.obs = [2]float64{float64(s.k), 1}
	return s.obs[:], 1, s.k == s.termAt, false, env.Info{}
}

func TestTruncationBootstrap(t *testing.T) {
	// Copy 0 is truncated every 3 steps, copy 1 terminates every 3 steps.
	cfg := DefaultConfig()
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.TotalSteps = 2, 6, 1, 12
	cfg.Hidden = []int{8}
	tr, err := NewTrainer(cfg, func(i int) env.Env {
		if i == 0 {
			return env.NewTimeLimit(&stepEnv{}, 3)
		}
		return &stepEnv{termAt: 3}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.rollout()
	vFinal := tr.Critic.Forward([]float64{3, 1}, 1)[0]
	if vFinal == 0 {
		t.Fatal("critic value is exactly 0: the test cannot tell a bootstrap apart")
	}
	for step := range cfg.NumSteps {
		for i := range 2 {
			k := step*2 + i
			want, done := 1.0, step%3 == 2
			if i == 0 && done {
				want = 1 + cfg.Gamma*vFinal
			}
			if !near(tr.rewards[k], want, 1e-12) || tr.dones[k] != done {
				t.Errorf("step %d copy %d: reward %v done %v, want %v %v", step, i, tr.rewards[k], tr.dones[k], want, done)
			}
		}
	}
}

func TestMinibatchGradientFiniteDifferences(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.TotalSteps = 2, 16, 1, 64
	cfg.Hidden = []int{8, 8}
	cfg.EntCoef = 0.05
	tr, err := NewTrainer(cfg, func(i int) env.Env { return env.NewCartPoleV1() })
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.rollout()
	// Move the networks away from the rollout's so that ratios differ from 1 and some
	// samples are clipped, then check d(total loss)/d(params) against central differences.
	rng := rand.New(rand.NewPCG(3, 3))
	for _, p := range [][]float64{tr.Actor.Params, tr.Critic.Params} {
		for i := range p {
			p[i] += 0.2 * rng.NormFloat64()
		}
	}
	m := cfg.BatchSize()
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
		copy(tr.mbObs[i*4:(i+1)*4], tr.obs[i*4:(i+1)*4])
		tr.mbAdv[i] = tr.adv[i]
	}
	l := tr.minibatchGrad(idx)
	if l.clipFrac == 0 || l.clipFrac == 1 {
		t.Fatalf("clip fraction %v: want a mix of clipped and unclipped samples", l.clipFrac)
	}
	ga := append([]float64(nil), tr.Actor.Grads...)
	gc := append([]float64(nil), tr.Critic.Grads...)
	loss := func() float64 { return tr.minibatchGrad(idx).total(cfg) }
	const h = 1e-6
	checked := 0
	for _, net := range []struct {
		name string
		p, g []float64
	}{{"actor", tr.Actor.Params, ga}, {"critic", tr.Critic.Params, gc}} {
		for i := 0; i < len(net.p); i += 7 {
			x := net.p[i]
			net.p[i] = x + h
			up := loss()
			net.p[i] = x - h
			down := loss()
			net.p[i] = x
			fd := (up - down) / (2 * h)
			if math.Abs(fd-net.g[i]) > 1e-5*(1e-3+math.Abs(fd)) && math.Abs(fd-net.g[i]) > 1e-7 {
				t.Errorf("%s param %d: analytic %v, finite difference %v", net.name, i, net.g[i], fd)
			}
			checked++
		}
	}
	if checked < 30 {
		t.Fatalf("checked only %d parameters", checked)
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{LearningRate: 1e-3, Gamma: 0.9, GAELambda: 0.9, ClipCoef: 0.1}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.NumEnvs != 4 || c.NumSteps != 128 || c.AdamEps != 1e-5 || len(c.Hidden) != 2 {
		t.Errorf("defaults not filled: %+v", c)
	}
	bad := DefaultConfig()
	bad.NumMinibatches = 3 // 512 is not divisible by 3
	bad.Gamma = 1.5
	bad.TotalSteps = 100
	err := bad.Validate()
	for _, field := range []string{"num_minibatches", "gamma", "total_steps"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("error %v does not name %s", err, field)
		}
	}
	got, err := LoadConfig(strings.NewReader("learning_rate: 0.001\nnum_envs: 8\n"), "ppo.yaml")
	if err != nil || got.LearningRate != 1e-3 || got.NumEnvs != 8 || !got.AnnealLR || got.Gamma != 0.99 {
		t.Errorf("LoadConfig: %+v, %v", got, err)
	}
	if _, err := LoadConfig(strings.NewReader("learning_rat: 0.001\n"), "ppo.yaml"); err == nil || !strings.Contains(err.Error(), "ppo.yaml") {
		t.Errorf("unknown key: error %v, want one naming the file", err)
	}
}

func TestPolicyActsOnNormalisedObservations(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NumEnvs, cfg.NumSteps, cfg.TotalSteps, cfg.NormalizeObs = 2, 32, 64, true
	tr, err := NewTrainer(cfg, func(int) env.Env { return env.NewCartPoleV1() })
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.Update()
	p := tr.Policy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	obs := []float64{0.1, -0.3, 0.02, 0.5}
	x := make([]float64, 4)
	tr.ObsRMS.Normalize(x, obs, cfg.ObsClip)
	want := nn.Argmax(tr.Actor.Forward(x, 1))
	if got := p.Act(obs); got != want {
		t.Errorf("Act = %d, want argmax of the actor on normalised input = %d", got, want)
	}
	if p.ObsMean[0] == 0 || p.ObsVar[0] == 1 {
		t.Error("policy carries untouched statistics")
	}
	tr.Update() // the snapshot must not follow later training
	if got := p.Act(obs); got != want {
		t.Error("policy snapshot changed with training")
	}
	if p.Act(obs[:3]) != -1 {
		t.Error("observation of the wrong length: want action -1")
	}
	counts := [2]int{}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		counts[p.Sample(obs, rng)]++
	}
	if counts[0] == 0 || counts[1] == 0 {
		t.Errorf("stochastic policy near init drew %v: want both actions", counts)
	}
}

func TestResumeFromExportedState(t *testing.T) {
	// The exported fields plus the environments' binary state are the whole state at an
	// update boundary: a trainer rebuilt from them continues bit for bit.
	cfg := DefaultConfig()
	cfg.NumEnvs, cfg.NumSteps, cfg.TotalSteps, cfg.NormalizeObs = 3, 64, 3*64*6, true
	mk := func(seed uint64) *Trainer {
		c := cfg
		c.Seed = seed
		tr, err := NewTrainer(c, func(int) env.Env { return env.NewCartPoleV1() })
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	a := mk(1)
	defer a.Close()
	for range 3 {
		a.Update()
	}
	b := mk(99) // starts elsewhere: everything below must be overwritten
	defer b.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range [][2]*nn.MLP{{b.Actor, a.Actor}, {b.Critic, a.Critic}} {
		buf, err := n[1].MarshalBinary()
		must(err)
		must(n[0].UnmarshalBinary(buf))
	}
	*b.ActorOpt = nn.Adam{LR: a.ActorOpt.LR, Beta1: a.ActorOpt.Beta1, Beta2: a.ActorOpt.Beta2, Eps: a.ActorOpt.Eps,
		M: append([]float64(nil), a.ActorOpt.M...), V: append([]float64(nil), a.ActorOpt.V...), T: a.ActorOpt.T}
	*b.CriticOpt = nn.Adam{LR: a.CriticOpt.LR, Beta1: a.CriticOpt.Beta1, Beta2: a.CriticOpt.Beta2, Eps: a.CriticOpt.Eps,
		M: append([]float64(nil), a.CriticOpt.M...), V: append([]float64(nil), a.CriticOpt.V...), T: a.CriticOpt.T}
	*b.ObsRMS = *a.ObsRMS.Clone()
	rs, err := a.RNG.MarshalBinary()
	must(err)
	must(b.RNG.UnmarshalBinary(rs))
	es, err := a.Envs.MarshalBinary()
	must(err)
	must(b.Envs.UnmarshalBinary(es))
	b.Iteration, b.GlobalStep = a.Iteration, a.GlobalStep
	copy(b.NextObs, a.NextObs)

	for !a.Done() {
		sa, sb := a.Update(), b.Update()
		if sa.ValueLoss != sb.ValueLoss || len(sa.EpisodeReturns) != len(sb.EpisodeReturns) {
			t.Fatalf("update %d: resumed trainer diverged (%v vs %v)", sa.Iteration, sa.ValueLoss, sb.ValueLoss)
		}
	}
	for i := range a.Actor.Params {
		if a.Actor.Params[i] != b.Actor.Params[i] {
			t.Fatalf("actor param %d: %v vs %v", i, a.Actor.Params[i], b.Actor.Params[i])
		}
	}
	if b.Iteration != 6 {
		t.Errorf("resumed trainer ran to iteration %d, want 6", b.Iteration)
	}
}
