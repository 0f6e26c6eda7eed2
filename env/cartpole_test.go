package env

import (
	"math"
	"testing"
)

func TestCartPoleHandComputedStep(t *testing.T) {
	// From rest, pushing right: temp = F/M = 100/11; the pole's denominator is
	// l*(4/3 - m/M) = 0.5*(4/3 - 1/11) = 41/66, so thetaacc = -(100/11)/(41/66) = -600/41
	// and xacc = 100/11 + 0.05*(600/41)/1.1 = 4400/451. Euler: velocities move by tau*acc.
	c := NewCartPole()
	c.Reset(1)
	c.State = [4]float64{}
	obs, r, term, trunc, _ := c.Step(1)
	want := []float64{0, 0.02 * 4400.0 / 451, 0, -0.02 * 600.0 / 41}
	for i := range want {
		if math.Abs(obs[i]-want[i]) > 1e-12 {
			t.Errorf("obs[%d] = %.15g, want %.15g", i, obs[i], want[i])
		}
	}
	if r != 1 || term || trunc {
		t.Errorf("reward %v terminated %v truncated %v, want 1 false false", r, term, trunc)
	}

	// A tilted, moving state pushed left, from the equations of Barto, Sutton and
	// Anderson (1983) as written in Gymnasium's cartpole.py.
	s := [4]float64{0.1, -0.2, 0.05, 0.3}
	c.State = s
	obs, _, _, _, _ = c.Step(0)
	f, g, mc, mp, l, tau := -10.0, 9.8, 1.0, 0.1, 0.5, 0.02
	m := mc + mp
	temp := (f + mp*l*s[3]*s[3]*math.Sin(s[2])) / m
	ta := (g*math.Sin(s[2]) - math.Cos(s[2])*temp) / (l * (4.0/3.0 - mp*math.Cos(s[2])*math.Cos(s[2])/m))
	xa := temp - mp*l*ta*math.Cos(s[2])/m
	want = []float64{s[0] + tau*s[1], s[1] + tau*xa, s[2] + tau*s[3], s[3] + tau*ta}
	for i := range want {
		if math.Abs(obs[i]-want[i]) > 1e-12 {
			t.Errorf("tilted: obs[%d] = %.15g, want %.15g", i, obs[i], want[i])
		}
	}
	if !(obs[3] > s[3]) {
		t.Errorf("pushing left under a right-leaning pole should raise theta_dot: %v -> %v", s[3], obs[3])
	}
}

func TestCartPoleTermination(t *testing.T) {
	if math.Abs(CartPoleThetaThreshold-0.2094395) > 1e-6 {
		t.Fatalf("theta threshold %v, want 12 degrees = 0.2094395 rad", CartPoleThetaThreshold)
	}
	cases := []struct {
		name  string
		state [4]float64
		term  bool
	}{
		// theta' = theta + tau*theta_dot; x' = x + tau*x_dot.
		{"theta just inside", [4]float64{0, 0, 0.2094, 0.001}, false},     // 0.20942 < 0.2094395
		{"theta just beyond", [4]float64{0, 0, 0.2094, 0.002}, true},      // 0.20944 > 0.2094395
		{"theta beyond negative", [4]float64{0, 0, -0.2094, -0.01}, true}, // -0.2096
		{"x inside", [4]float64{2.39, 0.4, 0, 0}, false},                  // 2.398
		{"x beyond", [4]float64{2.39, 0.6, 0, 0}, true},                   // 2.402
		{"x beyond negative", [4]float64{-2.39, -0.6, 0, 0}, true},
	}
	for _, tc := range cases {
		c := NewCartPole()
		c.Reset(0)
		c.State = tc.state
		_, r, term, _, _ := c.Step(0)
		if term != tc.term {
			t.Errorf("%s: terminated = %v, want %v (state after %v)", tc.name, term, tc.term, c.State)
		}
		if r != 1 {
			t.Errorf("%s: reward %v, want 1 (the terminating step is rewarded too)", tc.name, r)
		}
		if tc.term {
			c.State = tc.state
			if _, r, term, _, _ = c.Step(0); r != 0 || !term {
				t.Errorf("%s: step after termination: reward %v terminated %v, want 0 true", tc.name, r, term)
			}
		}
	}
}

func TestCartPoleTruncatesAt500(t *testing.T) {
	e := NewCartPoleV1()
	e.Reset(3)
	inner := e.Env.(*CartPole)
	for i := 1; i <= CartPoleMaxSteps; i++ {
		inner.State = [4]float64{} // hold the pole upright so only the limit can end it
		_, _, term, trunc, _ := e.Step(i % 2)
		if term {
			t.Fatalf("step %d: terminated", i)
		}
		if trunc != (i == 500) {
			t.Fatalf("step %d: truncated = %v", i, trunc)
		}
	}
	e.Reset(4)
	if _, _, _, trunc, _ := e.Step(0); trunc {
		t.Error("truncated right after Reset")
	}
}

func TestCartPoleResetSeeded(t *testing.T) {
	a, b := NewCartPole(), NewCartPole()
	oa, _ := a.Reset(42)
	first := append([]float64(nil), oa...)
	ob, _ := b.Reset(42)
	for i := range first {
		if first[i] != ob[i] {
			t.Fatalf("same seed, different state: %v vs %v", first, ob)
		}
		if math.Abs(first[i]) > 0.05 {
			t.Errorf("reset state %v outside U(-0.05, 0.05)", first)
		}
	}
	oc, _ := b.Reset(43)
	same := true
	for i := range first {
		same = same && first[i] == oc[i]
	}
	if same {
		t.Error("seeds 42 and 43 gave the same reset state")
	}
	if !a.ObservationSpace().Contains(first) {
		t.Error("reset observation outside the observation space")
	}
}

func TestCartPoleMarshalResumes(t *testing.T) {
	mk := func() *EpisodeStatistics { return NewEpisodeStatistics(NewCartPoleV1()) }
	a := mk()
	a.Reset(9)
	for i := range 7 {
		a.Step(i % 2)
	}
	state, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b := mk()
	b.Reset(1234)
	if err := b.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		act := (i / 3) % 2
		oa, ra, ta, ua, ia := a.Step(act)
		ob, rb, tb, ub, ib := b.Step(act)
		for j := range oa {
			if oa[j] != ob[j] {
				t.Fatalf("step %d: resumed copy diverged: %v vs %v", i, oa, ob)
			}
		}
		if ra != rb || ta != tb || ua != ub || (ia.Episode == nil) != (ib.Episode == nil) {
			t.Fatalf("step %d: resumed copy diverged", i)
		}
		if ta || ua {
			a.Reset(uint64(i))
			b.Reset(uint64(i))
		}
	}
	if err := b.UnmarshalBinary(state[:10]); err == nil {
		t.Error("truncated state accepted")
	}
}
