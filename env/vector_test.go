package env

import (
	"math"
	"math/rand/v2"
	"testing"
)

type vectorRecord struct {
	obs, rewards, final []float64
	term, trunc         []bool
	returns             []float64
}

func runVector(t *testing.T, parallel bool, n, steps int) vectorRecord {
	t.Helper()
	envs := make([]Env, n)
	for i := range envs {
		envs[i] = NewEpisodeStatistics(NewCartPoleV1())
	}
	v, err := NewVector(envs, parallel)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var rec vectorRecord
	obs, _ := v.Reset(100)
	rec.obs = append(rec.obs, obs...)
	rng := rand.New(rand.NewPCG(5, 6))
	actions := make([]int, n)
	for range steps {
		for i := range actions {
			actions[i] = rng.IntN(2)
		}
		obs, r, term, trunc, infos, err := v.Step(actions)
		if err != nil {
			t.Fatal(err)
		}
		rec.obs = append(rec.obs, obs...)
		rec.rewards = append(rec.rewards, r...)
		rec.term = append(rec.term, term...)
		rec.trunc = append(rec.trunc, trunc...)
		for i, info := range infos {
			done := term[i] || trunc[i]
			if done != (info.FinalObs != nil) || done != (info.Episode != nil) {
				t.Fatalf("env %d: done %v but FinalObs %v Episode %v", i, done, info.FinalObs, info.Episode)
			}
			if !done {
				continue
			}
			rec.final = append(rec.final, info.FinalObs...)
			rec.returns = append(rec.returns, info.Episode.Return)
			// The final observation of a terminated CartPole episode is past a threshold;
			// the observation handed back is the next episode's first, near the origin.
			fo := info.FinalObs
			if term[i] && math.Abs(fo[0]) <= CartPoleXThreshold && math.Abs(fo[2]) <= CartPoleThetaThreshold {
				t.Fatalf("env %d: terminated but final observation %v is inside the limits", i, fo)
			}
			for _, x := range obs[i*4 : i*4+4] {
				if math.Abs(x) > 0.05 {
					t.Fatalf("env %d: observation after auto-reset %v is not a reset state", i, obs[i*4:i*4+4])
				}
			}
		}
	}
	return rec
}

func TestVectorParallelEqualsSequential(t *testing.T) {
	seq := runVector(t, false, 5, 1500)
	par := runVector(t, true, 5, 1500)
	if len(seq.returns) < 20 {
		t.Fatalf("only %d episodes ended; the test needs auto-resets", len(seq.returns))
	}
	eqF := func(name string, a, b []float64) {
		if len(a) != len(b) {
			t.Fatalf("%s: lengths %d vs %d", name, len(a), len(b))
		}
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				t.Fatalf("%s[%d]: sequential %v, parallel %v", name, i, a[i], b[i])
			}
		}
	}
	eqF("obs", seq.obs, par.obs)
	eqF("rewards", seq.rewards, par.rewards)
	eqF("final obs", seq.final, par.final)
	eqF("returns", seq.returns, par.returns)
	for i := range seq.term {
		if seq.term[i] != par.term[i] || seq.trunc[i] != par.trunc[i] {
			t.Fatalf("flags differ at %d", i)
		}
	}
}

func TestVectorMatchesSingleEnvs(t *testing.T) {
	// Copy i of a Vector reset with seed s is the single env reset with s+i.
	const n, seed = 3, 77
	envs := make([]Env, n)
	for i := range envs {
		envs[i] = NewCartPoleV1()
	}
	v, err := NewVector(envs, true)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	obs, _ := v.Reset(seed)
	for i := range n {
		single := NewCartPoleV1()
		o, _ := single.Reset(seed + uint64(i))
		for j := range o {
			if o[j] != obs[i*4+j] {
				t.Fatalf("copy %d: reset obs %v, single env %v", i, obs[i*4:i*4+4], o)
			}
		}
	}
	if _, _, _, _, _, err := v.Step([]int{0}); err == nil {
		t.Error("wrong number of actions accepted")
	}
	if _, err := NewVector(nil, false); err == nil {
		t.Error("empty vector accepted")
	}
}

func BenchmarkVectorCartPole(b *testing.B) {
	for _, par := range []bool{false, true} {
		name := "sequential"
		if par {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			envs := make([]Env, 8)
			for i := range envs {
				envs[i] = NewCartPoleV1()
			}
			v, _ := NewVector(envs, par)
			defer v.Close()
			v.Reset(0)
			actions := make([]int, 8)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				actions[0] = i % 2
				v.Step(actions)
			}
			b.ReportMetric(float64(b.N*8)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}

// extraEnv reuses one Extra map, like Autoscale: Step writes the step number, Reset
// clears it and writes "reset". Episodes last 3 steps.
type extraEnv struct {
	n     int
	extra map[string]float64
	obs   []float64
}

func (e *extraEnv) ObservationSpace() Box { return Box{Low: []float64{0}, High: []float64{3}} }
func (e *extraEnv) ActionSpace() Discrete { return Discrete{N: 1} }
func (e *extraEnv) Reset(uint64) ([]float64, Info) {
	e.n = 0
	clear(e.extra)
	e.extra["reset"] = 1
	e.obs[0] = 0
	return e.obs, Info{Extra: e.extra}
}
func (e *extraEnv) Step(int) ([]float64, float64, bool, bool, Info) {
	e.n++
	clear(e.extra)
	e.extra["step"] = float64(e.n)
	e.obs[0] = float64(e.n)
	return e.obs, 1, false, e.n == 3, Info{Extra: e.extra}
}

// TestVectorKeepsFinalStepExtra: on auto-reset the Info handed back is the last
// step's, Extra included, not what the environment's Reset wrote into a reused map.
func TestVectorKeepsFinalStepExtra(t *testing.T) {
	envs := []Env{&extraEnv{extra: map[string]float64{}, obs: make([]float64, 1)}}
	v, err := NewVector(envs, false)
	if err != nil {
		t.Fatal(err)
	}
	v.Reset(1)
	for step := 1; step <= 7; step++ {
		_, _, _, trunc, infos, err := v.Step([]int{0})
		if err != nil {
			t.Fatal(err)
		}
		want := float64((step-1)%3 + 1)
		if got := infos[0].Extra; len(got) != 1 || got["step"] != want {
			t.Errorf("step %d (truncated %t): Extra %v, want map[step:%v]", step, trunc[0], got, want)
		}
	}
}
