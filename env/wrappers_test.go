package env

import (
	"math"
	"math/rand/v2"
	"testing"
)

// priorMoments combines Gymnasium's prior (mean 0, variance 1, count 1e-4) with data of
// population mean m and variance v over n samples.
func priorMoments(m, v, n float64) (mean, variance float64) {
	const e = 1e-4
	tot := n + e
	return n * m / tot, (e + n*v + m*m*e*n/tot) / tot
}

func TestRunningMeanStdMatchesBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const d = 3
	var data []float64
	r := NewRunningMeanStd(d)
	n := 0
	for _, chunk := range []int{1, 7, 1, 50, 3, 200} {
		batch := make([]float64, chunk*d)
		for i := range batch {
			batch[i] = 5*float64(i%d) + float64(i%d+1)*rng.NormFloat64()
		}
		r.Update(batch, chunk)
		data = append(data, batch...)
		n += chunk
	}
	for j := range d {
		s, ss := 0.0, 0.0
		for i := range n {
			s += data[i*d+j]
		}
		m := s / float64(n)
		for i := range n {
			ss += (data[i*d+j] - m) * (data[i*d+j] - m)
		}
		wm, wv := priorMoments(m, ss/float64(n), float64(n))
		if math.Abs(r.Mean[j]-wm) > 1e-9*(1+math.Abs(wm)) || math.Abs(r.Var[j]-wv) > 1e-9*wv {
			t.Errorf("dim %d: running (%v, %v), batch (%v, %v)", j, r.Mean[j], r.Var[j], wm, wv)
		}
	}
	if math.Abs(r.Count-(float64(n)+1e-4)) > 1e-9 {
		t.Errorf("count %v, want %v", r.Count, float64(n)+1e-4)
	}
}

// constEnv returns obs (k, 2k) and reward rew at step k; it terminates at step termAt.
type constEnv struct {
	k, termAt int
	rew       float64
	obs       []float64
}

func (c *constEnv) ObservationSpace() Box {
	inf := math.Inf(1)
	return Box{Low: []float64{-inf, -inf}, High: []float64{inf, inf}}
}
func (c *constEnv) ActionSpace() Discrete { return Discrete{N: 1} }
func (c *constEnv) Reset(uint64) ([]float64, Info) {
	c.k = 0
	c.obs = []float64{0, 0}
	return c.obs, Info{}
}
func (c *constEnv) Step(int) ([]float64, float64, bool, bool, Info) {
	c.k++
	c.obs[0], c.obs[1] = float64(c.k), 2*float64(c.k)
	return c.obs, c.rew, c.k == c.termAt, false, Info{}
}

func TestNormalizeObservation(t *testing.T) {
	w := NewNormalizeObservation(&constEnv{termAt: -1}, 0)
	w.Reset(0)
	var z []float64
	for range 4 {
		z, _, _, _, _ = w.Step(0)
	}
	// Observations seen: 0,1,2,3,4 in dim 0 (mean 2, variance 2) and twice that in dim 1.
	for j, scale := range []float64{1, 2} {
		m, v := priorMoments(2*scale, 2*scale*scale, 5)
		want := (4*scale - m) / math.Sqrt(v+1e-8)
		if math.Abs(z[j]-want) > 1e-9 {
			t.Errorf("dim %d: normalised %v, want %v", j, z[j], want)
		}
	}
	mean, variance, count := w.Stats()
	w.Frozen = true
	w.Step(0)
	m2, v2, c2 := w.Stats()
	if m2[0] != mean[0] || v2[1] != variance[1] || c2 != count {
		t.Error("frozen normaliser updated its statistics")
	}
	fresh := NewNormalizeObservation(&constEnv{termAt: -1}, 1.5)
	if err := fresh.SetStats(mean, variance, count); err != nil {
		t.Fatal(err)
	}
	fresh.Frozen = true
	fresh.Reset(0)
	zz, _, _, _, _ := fresh.Step(0) // obs (1, 2): below the mean, within the clip
	if want := (1 - mean[0]) / math.Sqrt(variance[0]+1e-8); math.Abs(zz[0]-want) > 1e-12 {
		t.Errorf("restored stats: %v, want %v", zz[0], want)
	}
	for range 20 {
		zz, _, _, _, _ = fresh.Step(0)
	}
	if zz[0] != 1.5 || zz[1] != 1.5 {
		t.Errorf("clip 1.5: got %v", zz)
	}
	if err := fresh.SetStats(mean[:1], variance, count); err == nil {
		t.Error("stats of the wrong length accepted")
	}
	if err := fresh.SetStats(mean, []float64{1, -1}, count); err == nil {
		t.Error("negative variance accepted")
	}
}

func TestNormalizeReward(t *testing.T) {
	// Reward 1 each step, gamma 0.5, termination at step 3. Gymnasium's update
	// ret = ret*gamma*(1-terminated) + r drops the carried return on the terminating
	// step itself: returns are 1, 1.5, 1, then 1.5, 1.75 (the inner env restarts).
	w := NewNormalizeReward(&constEnv{termAt: 3, rew: 1}, 0.5)
	w.Reset(0)
	rets := []float64{1, 1.5, 1, 1.5, 1.75}
	for k, ret := range rets {
		_, r, term, _, _ := w.Step(0)
		seen := rets[:k+1]
		s := 0.0
		for _, x := range seen {
			s += x
		}
		m := s / float64(len(seen))
		v := 0.0
		for _, x := range seen {
			v += (x - m) * (x - m)
		}
		_, wv := priorMoments(m, v/float64(len(seen)), float64(len(seen)))
		if want := 1 / math.Sqrt(wv+1e-8); math.Abs(r-want) > 1e-9 {
			t.Errorf("step %d (return %v): scaled reward %v, want %v", k+1, ret, r, want)
		}
		if term {
			w.Env.Reset(0) // the inner env only, so the wrapper's Ret carries on
		}
	}
}

func TestEpisodeStatistics(t *testing.T) {
	w := NewEpisodeStatistics(&constEnv{termAt: 4, rew: 2.5})
	w.Reset(0)
	for k := 1; k <= 4; k++ {
		_, _, term, _, info := w.Step(0)
		if (info.Episode != nil) != term {
			t.Fatalf("step %d: Episode %v, terminated %v", k, info.Episode, term)
		}
		if term && (info.Episode.Return != 10 || info.Episode.Length != 4) {
			t.Errorf("episode %+v, want return 10 length 4", *info.Episode)
		}
	}
}
