package dqn

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/env"
)

func TestEpsilonSchedule(t *testing.T) {
	c := DefaultConfig() // 1 → 0.05 over 0.5·500000 = 250000 steps
	for _, tc := range []struct {
		step int
		want float64
	}{{0, 1}, {125_000, 0.525}, {250_000, 0.05}, {400_000, 0.05}, {50_000, 0.81}} {
		if got := c.Epsilon(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Epsilon(%d) = %v, want %v", tc.step, got, tc.want)
		}
	}
}

func TestTDTargets(t *testing.T) {
	rewards := []float64{1, 0.5, 2}
	terminated := []float64{0, 1, 0}
	target := []float64{1, 3, 5, 2, -1, -2} // Q_target(s', ·), 3 rows of 2 actions
	online := []float64{4, 1, 0, 9, 0, 5}   // Q_online(s', ·): argmax 0, 1, 1
	got := make([]float64, 3)
	// DQN: r + 0.9·max Q_target; the terminal row keeps r alone.
	tdTargets(got, rewards, terminated, target, nil, 2, 0.9)
	for i, want := range []float64{1 + 0.9*3, 0.5, 2 + 0.9*-1} {
		if math.Abs(got[i]-want) > 1e-15 {
			t.Errorf("DQN target %d = %v, want %v", i, got[i], want)
		}
	}
	// Double DQN: r + 0.9·Q_target(s', argmax Q_online).
	tdTargets(got, rewards, terminated, target, online, 2, 0.9)
	for i, want := range []float64{1 + 0.9*1, 0.5, 2 + 0.9*-2} {
		if math.Abs(got[i]-want) > 1e-15 {
			t.Errorf("Double DQN target %d = %v, want %v", i, got[i], want)
		}
	}
}

func TestReplayWraparound(t *testing.T) {
	r := NewReplay(3, 2)
	for i := range 5 {
		v := float64(i)
		r.Add([]float64{v, -v}, i%2, 10*v, []float64{v + 0.5, 0}, i == 4)
	}
	if r.Len != 3 || r.Pos != 2 {
		t.Fatalf("after 5 adds to capacity 3: Len %d Pos %d, want 3 and 2", r.Len, r.Pos)
	}
	// Slots 0, 1, 2 hold transitions 3, 4, 2.
	for slot, tr := range []int{3, 4, 2} {
		v := float64(tr)
		if r.Obs[2*slot] != v || r.Obs[2*slot+1] != -v || r.NextObs[2*slot] != v+0.5 ||
			r.Rewards[slot] != 10*v || int(r.Actions[slot]) != tr%2 || r.Terminated[slot] != (tr == 4) {
			t.Errorf("slot %d: obs %v next %v reward %v action %d term %v, want transition %d",
				slot, r.Obs[2*slot:2*slot+2], r.NextObs[2*slot:2*slot+2], r.Rewards[slot], r.Actions[slot], r.Terminated[slot], tr)
		}
	}
}

func TestReplaySample(t *testing.T) {
	r := NewReplay(100, 1)
	for i := range 40 { // partly full: only slots 0..39 may be drawn
		r.Add([]float64{float64(i)}, i%3, float64(i), []float64{float64(i + 1)}, i%7 == 0)
	}
	sample := func(seed uint64) *Batch {
		b := NewBatch(4000, 1)
		r.Sample(rand.New(rand.NewPCG(seed, 1)), b)
		return b
	}
	a, b, c := sample(1), sample(1), sample(2)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different samples")
	}
	if reflect.DeepEqual(a.Index, c.Index) {
		t.Error("different seeds, same samples")
	}
	counts := make([]int, 40)
	for k, i := range a.Index {
		if i < 0 || i >= 40 {
			t.Fatalf("sampled slot %d of a buffer holding 40", i)
		}
		counts[i]++
		term := 0.0
		if i%7 == 0 {
			term = 1
		}
		if a.Obs[k] != float64(i) || a.NextObs[k] != float64(i+1) || a.Actions[k] != i%3 || a.Rewards[k] != float64(i) || a.Terminated[k] != term {
			t.Fatalf("row %d does not match slot %d", k, i)
		}
	}
	// Uniform: each slot expected 100 times, sd ≈ 9.9.
	for i, n := range counts {
		if n < 50 || n > 150 {
			t.Errorf("slot %d drawn %d times in 4000, expected about 100", i, n)
		}
	}
}

// episodeEnv is a one-dimensional environment whose episodes last length steps and end
// by termination or truncation; the observation is the step within the episode.
type episodeEnv struct {
	length   int
	truncate bool
	t        int
	obs      []float64
}

func (e *episodeEnv) ObservationSpace() env.Box {
	return env.Box{Low: []float64{0}, High: []float64{float64(e.length)}}
}
func (e *episodeEnv) ActionSpace() env.Discrete { return env.Discrete{N: 2} }
func (e *episodeEnv) Reset(uint64) ([]float64, env.Info) {
	e.t = 0
	e.obs = []float64{0}
	return e.obs, env.Info{}
}
func (e *episodeEnv) Step(int) ([]float64, float64, bool, bool, env.Info) {
	e.t++
	e.obs[0] = float64(e.t)
	end := e.t >= e.length
	return e.obs, 1, end && !e.truncate, end && e.truncate, env.Info{}
}

// TestTruncationBootstraps checks that only termination is stored as terminal, so the
// TD target of a truncated transition bootstraps.
func TestTruncationBootstraps(t *testing.T) {
	for _, truncate := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.BufferSize, cfg.BatchSize, cfg.LearningStarts = 64, 8, 1000
		tr, err := NewTrainer(&episodeEnv{length: 4, truncate: truncate}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var ends int
		tr.Run(12, func(s Stats) {
			ends++
			if s.EpisodeReturn != 4 || s.EpisodeLength != 4 {
				t.Errorf("episode return %v length %d, want 4 and 4", s.EpisodeReturn, s.EpisodeLength)
			}
		})
		if ends != 3 || tr.Episodes != 3 {
			t.Errorf("truncate=%v: %d episode ends logged, %d counted, want 3", truncate, ends, tr.Episodes)
		}
		for i := 0; i < 12; i++ {
			last := tr.Replay.NextObs[i] == 4
			if want := last && !truncate; tr.Replay.Terminated[i] != want {
				t.Errorf("truncate=%v: transition %d (next obs %v) terminal %v, want %v",
					truncate, i, tr.Replay.NextObs[i], tr.Replay.Terminated[i], want)
			}
			// Episodes restart: the observation before step 1 of each episode is 0.
			if tr.Replay.Obs[i] != float64(i%4) {
				t.Errorf("transition %d starts from %v, want %d", i, tr.Replay.Obs[i], i%4)
			}
		}
	}
}

func smallConfig(seed uint64) Config {
	cfg := CartPoleConfig()
	cfg.Seed = seed
	cfg.TotalSteps = 3000
	cfg.LearningStarts = 300
	cfg.BatchSize = 32
	cfg.TrainFrequency = 2
	cfg.TargetNetworkFrequency = 100
	cfg.Hidden = []int{32, 32}
	return cfg
}

func TestTrainingDeterministic(t *testing.T) {
	for _, double := range []bool{false, true} {
		run := func(seed uint64) *Trainer {
			cfg := smallConfig(seed)
			cfg.DoubleDQN = double
			tr, err := Train(env.NewCartPoleV1(), cfg, 2000, nil)
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}
		a, b, c := run(1), run(1), run(2)
		// Gradient steps at the even steps 302..1998 (0-based, after LearningStarts 300).
		if want := (1998-302)/2 + 1; a.Updates != want {
			t.Errorf("double=%v: %d gradient steps, want %d", double, a.Updates, want)
		}
		if !reflect.DeepEqual(a.Q.Params, b.Q.Params) || !reflect.DeepEqual(a.Target.Params, b.Target.Params) ||
			!reflect.DeepEqual(a.Opt.M, b.Opt.M) || a.Episodes != b.Episodes {
			t.Errorf("double=%v: same seed, different training state", double)
		}
		if reflect.DeepEqual(a.Q.Params, c.Q.Params) {
			t.Errorf("double=%v: seeds 1 and 2 gave the same parameters", double)
		}
	}
}

// TestResumeFromExportedState copies the exported fields and the environment's state
// mid-run into a new Trainer and checks that both continue identically: the exported
// fields are the whole training state.
func TestResumeFromExportedState(t *testing.T) {
	cfg := smallConfig(3)
	e := env.NewCartPoleV1()
	tr, err := Train(e, cfg, 1234, nil)
	if err != nil {
		t.Fatal(err)
	}
	envState, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	pcgState, err := tr.PCG.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	e2 := env.NewCartPoleV1()
	if err := e2.UnmarshalBinary(envState); err != nil {
		t.Fatal(err)
	}
	pcg := &rand.PCG{}
	if err := pcg.UnmarshalBinary(pcgState); err != nil {
		t.Fatal(err)
	}
	rep := *tr.Replay
	rep.Obs = append([]float64(nil), rep.Obs...)
	rep.NextObs = append([]float64(nil), rep.NextObs...)
	rep.Actions = append([]int32(nil), rep.Actions...)
	rep.Rewards = append([]float64(nil), rep.Rewards...)
	rep.Terminated = append([]bool(nil), rep.Terminated...)
	opt := *tr.Opt
	opt.M = append([]float64(nil), opt.M...)
	opt.V = append([]float64(nil), opt.V...)
	tr2 := &Trainer{
		Config: tr.Config, Q: tr.Q.Clone(), Target: tr.Target.Clone(), Opt: &opt, Replay: &rep, PCG: pcg,
		GlobalStep: tr.GlobalStep, Updates: tr.Updates, Episodes: tr.Episodes,
		Obs: append([]float64(nil), tr.Obs...), NeedReset: tr.NeedReset,
		EpisodeReturn: tr.EpisodeReturn, EpisodeLength: tr.EpisodeLength, LastLoss: tr.LastLoss, LastQ: tr.LastQ,
	}
	if err := tr2.Attach(e2); err != nil {
		t.Fatal(err)
	}
	tr.Run(1000, nil)
	tr2.Run(1000, nil)
	if !reflect.DeepEqual(tr.Q.Params, tr2.Q.Params) || tr.Episodes != tr2.Episodes || tr.Updates != tr2.Updates {
		t.Error("resumed trainer diverged from the original")
	}
}

func TestTrainerStepAllocations(t *testing.T) {
	cfg := smallConfig(4)
	cfg.TrainFrequency = 1
	cfg.TargetNetworkFrequency = 7
	tr, err := Train(env.NewCartPoleV1(), cfg, 400, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(300, func() { tr.Step() }); a != 0 {
		t.Errorf("%v allocations per training step, want 0", a)
	}
}

func TestGreedyAndAct(t *testing.T) {
	q := nn.NewMLP([]int{2, 3}, nn.Identity, nil, rand.New(rand.NewPCG(1, 2)))
	clear(q.Params)
	w, b := q.Layer(0)
	w[2], w[3] = 1, 0   // Q(s, 1) = s0
	b[0], b[2] = 0.5, 0 // Q(s, 0) = 0.5
	ag := &Agent{Q: q, Rng: rand.New(rand.NewPCG(3, 4)), NumActions: 3}
	if a := ag.Greedy([]float64{2, 0}); a != 1 {
		t.Errorf("Greedy = %d, want 1", a)
	}
	if a := ag.Greedy([]float64{0, 0}); a != 0 {
		t.Errorf("Greedy = %d, want 0", a)
	}
	counts := make([]int, 3)
	for range 3000 {
		counts[ag.Act([]float64{2, 0}, 1)]++
	}
	for a, n := range counts {
		if n < 850 || n > 1150 {
			t.Errorf("epsilon 1: action %d chosen %d of 3000 times, want about 1000", a, n)
		}
	}
	for range 100 {
		if a := ag.Act([]float64{2, 0}, 0); a != 1 {
			t.Fatalf("epsilon 0: action %d, want greedy 1", a)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	var zero Config
	if err := zero.Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	d := DefaultConfig()
	// Fields whose zero value is meaningful stay zero.
	d.Seed, d.Gamma, d.StartE, d.EndE, d.LearningStarts = 0, 0, 0, 0, 0
	if !reflect.DeepEqual(zero, d) {
		t.Errorf("zero config filled to %+v, want %+v", zero, d)
	}
	for _, tc := range []struct {
		field string
		set   func(*Config)
	}{
		{"gamma", func(c *Config) { c.Gamma = 1.5 }},
		{"tau", func(c *Config) { c.Tau = 2 }},
		{"batch_size", func(c *Config) { c.BatchSize = 20_000 }},
		{"learning_starts", func(c *Config) { c.LearningStarts = -1 }},
		{"end_e", func(c *Config) { c.EndE = -0.1 }},
		{"exploration_fraction", func(c *Config) { c.ExplorationFraction = 1.5 }},
		{"hidden[1]", func(c *Config) { c.Hidden = []int{8, 0} }},
		{"activation", func(c *Config) { c.Activation = "sigmoid" }},
		{"loss", func(c *Config) { c.Loss = "l1" }},
		{"learning_rate", func(c *Config) { c.LearningRate = -1 }},
		{"max_grad_norm", func(c *Config) { c.MaxGradNorm = math.NaN() }},
	} {
		c := DefaultConfig()
		tc.set(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate() = %v, want an error naming the field", tc.field, err)
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	c, err := DecodeConfig(strings.NewReader("seed: 7\ndouble_dqn: true\nhidden: [32, 16]\n"), "dqn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != 7 || !c.DoubleDQN || !reflect.DeepEqual(c.Hidden, []int{32, 16}) || c.BatchSize != 128 {
		t.Errorf("decoded %+v", c)
	}
	_, err = DecodeConfig(strings.NewReader("seed: 7\nlearnig_rate: 0.1\n"), "dqn.yaml")
	if err == nil || !strings.Contains(err.Error(), "dqn.yaml") || !strings.Contains(err.Error(), "learnig_rate") {
		t.Errorf("unknown key: error %v, want one naming the file and the key", err)
	}
	_, err = DecodeConfig(strings.NewReader("gamma: 2\n"), "dqn.yaml")
	if err == nil || !strings.Contains(err.Error(), "gamma") {
		t.Errorf("bad gamma: error %v", err)
	}
}

// BenchmarkTrainerStep measures CartPoleConfig training throughput (one gradient step
// every 4 environment steps, batch 64, 64-64 network) in environment steps per second.
func BenchmarkTrainerStep(b *testing.B) {
	cfg := CartPoleConfig()
	tr, err := Train(env.NewCartPoleV1(), cfg, cfg.LearningStarts+1, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tr.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
