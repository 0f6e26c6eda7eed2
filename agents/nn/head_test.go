package nn

import (
	"math"
	"testing"
)

// checkGrad compares an analytic gradient of f at x against fourth-order central
// differences.
func checkGrad(t *testing.T, name string, f func([]float64) float64, x, grad []float64) {
	t.Helper()
	for i := range x {
		p := x[i]
		g := func(v float64) float64 {
			x[i] = v
			return f(x)
		}
		num := fivePoint(g, p, 1e-3)
		x[i] = p
		if e := relErr(grad[i], num); e > 1e-6 {
			t.Errorf("%s: component %d: analytic %.12g, finite difference %.12g, rel error %.2g", name, i, grad[i], num, e)
		}
	}
}

var logitCases = [][]float64{
	{0.3, -1.2, 2.0},
	{0, 0, 0, 0},
	{5, -5},
	{1.5, 0.2, -0.7, 3.1, -2.2},
}

func TestLogProbGrad(t *testing.T) {
	for _, logits := range logitCases {
		for a := range logits {
			grad := make([]float64, len(logits))
			LogProbGrad(grad, logits, a)
			checkGrad(t, "log-prob", func(x []float64) float64 { return LogProb(x, a) }, logits, grad)
			// onehot − p sums to zero.
			var s float64
			for _, g := range grad {
				s += g
			}
			if math.Abs(s) > 1e-15 {
				t.Errorf("log-prob gradient sums to %v, want 0", s)
			}
		}
	}
}

func TestEntropyGrad(t *testing.T) {
	for _, logits := range logitCases {
		grad := make([]float64, len(logits))
		EntropyGrad(grad, logits)
		checkGrad(t, "entropy", Entropy, logits, grad)
	}
	// Uniform logits: the maximum, log n, with zero gradient.
	u := []float64{0.4, 0.4, 0.4, 0.4}
	if h := Entropy(u); math.Abs(h-math.Log(4)) > 1e-15 {
		t.Errorf("entropy of uniform over 4: %v, want log 4 = %v", h, math.Log(4))
	}
	g := make([]float64, 4)
	EntropyGrad(g, u)
	for i, v := range g {
		if math.Abs(v) > 1e-16 {
			t.Errorf("entropy gradient at uniform, component %d: %v, want 0", i, v)
		}
	}
}

func TestLogSoftmax(t *testing.T) {
	// Hand-computed: logits {0, ln 3} give probabilities {1/4, 3/4}.
	dst := make([]float64, 2)
	LogSoftmax(dst, []float64{0, math.Log(3)})
	if math.Abs(dst[0]-math.Log(0.25)) > 1e-15 || math.Abs(dst[1]-math.Log(0.75)) > 1e-15 {
		t.Errorf("log softmax {0, ln 3} = %v, want {ln ¼, ln ¾}", dst)
	}
	// In place, and stable for huge logits.
	x := []float64{1000, 1000 + math.Log(3)}
	LogSoftmax(x, x)
	if math.Abs(x[0]-math.Log(0.25)) > 1e-12 || math.Abs(x[1]-math.Log(0.75)) > 1e-12 {
		t.Errorf("log softmax in place of huge logits = %v", x)
	}
	p := []float64{-1000, 2, 3}
	Softmax(p, p)
	if s := p[0] + p[1] + p[2]; math.Abs(s-1) > 1e-15 || p[0] != 0 {
		t.Errorf("softmax in place = %v (sum %v)", p, s)
	}
}

func TestSampleCategorical(t *testing.T) {
	logits := []float64{0, math.Log(2), math.Log(7), math.Inf(-1)} // p = 0.1, 0.2, 0.7, 0
	rng := newRNG(20)
	const n = 100_000
	var counts [4]int
	for range n {
		counts[SampleCategorical(logits, rng)]++
	}
	for i, p := range []float64{0.1, 0.2, 0.7, 0} {
		sd := math.Sqrt(n * p * (1 - p))
		if math.Abs(float64(counts[i])-n*p) > 5*sd {
			t.Errorf("action %d drawn %d times in %d, expected %v ± %v", i, counts[i], n, n*p, 5*sd)
		}
	}
	if counts[3] != 0 {
		t.Errorf("action with probability 0 drawn %d times", counts[3])
	}
	// Same seed, same draws.
	a, b := newRNG(21), newRNG(21)
	for range 100 {
		if SampleCategorical(logits, a) != SampleCategorical(logits, b) {
			t.Fatal("same seed gave different samples")
		}
	}
}

func TestArgmax(t *testing.T) {
	for _, tc := range []struct {
		x    []float64
		want int
	}{{[]float64{1, 3, 2}, 1}, {[]float64{2, 2, 1}, 0}, {[]float64{-5}, 0}, {nil, -1}, {[]float64{-1, -0.5, -0.5}, 1}} {
		if got := Argmax(tc.x); got != tc.want {
			t.Errorf("Argmax(%v) = %d, want %d", tc.x, got, tc.want)
		}
	}
}

func TestHuberLoss(t *testing.T) {
	// Hand-computed with delta 1: d = {0.5, −2, 3, 0} -> {0.125, 1.5, 2.5, 0}, mean 1.03125.
	pred := []float64{1.5, -1, 4, 2}
	target := []float64{1, 1, 1, 2}
	grad := make([]float64, 4)
	if l := HuberLoss(grad, pred, target, 1); math.Abs(l-1.03125) > 1e-15 {
		t.Errorf("Huber loss = %v, want 1.03125", l)
	}
	want := []float64{0.5 / 4, -1.0 / 4, 1.0 / 4, 0}
	for i := range want {
		if math.Abs(grad[i]-want[i]) > 1e-15 {
			t.Errorf("Huber gradient %d = %v, want %v", i, grad[i], want[i])
		}
	}
	// Finite differences away from the kinks at |d| = delta, with delta 2.
	pred = []float64{0.3, -4.1, 1.7, 2.9, -0.2}
	target = []float64{0, 0, 0, 0, 0}
	grad = make([]float64, 5)
	HuberLoss(grad, pred, target, 2)
	checkGrad(t, "huber", func(x []float64) float64 { return HuberLoss(nil, x, target, 2) }, pred, grad)
}

func TestMSELoss(t *testing.T) {
	pred := []float64{1, 2, 3}
	target := []float64{0, 4, 3}
	grad := make([]float64, 3)
	if l := MSELoss(grad, pred, target); math.Abs(l-5.0/3) > 1e-15 {
		t.Errorf("MSE = %v, want 5/3", l)
	}
	checkGrad(t, "mse", func(x []float64) float64 { return MSELoss(nil, x, target) }, pred, grad)
}

// TestAdamTwoSteps checks two Adam steps against values worked out by hand from
// PyTorch's update rule with lr 0.1, β1 0.9, β2 0.999, ε 1e-8.
func TestAdamTwoSteps(t *testing.T) {
	a := NewAdam(2, 0.1)
	p := []float64{1, -2}
	// Step 1, g = {0.5, −1}: m̂ = g, v̂ = g², so p −= 0.1·g/(|g|+ε).
	a.Update(p, []float64{0.5, -1})
	want1 := []float64{1 - 0.1*0.5/(0.5+1e-8), -2 + 0.1*1/(1+1e-8)}
	// Step 2, g = {0.1, 0.2}:
	//   m = 0.9·0.1·g1 + 0.1·g2 = {0.055, −0.07}
	//   v = 0.999·0.001·g1² + 0.001·g2² = {0.00025975, 0.001039}
	//   bias corrections 1−0.9² = 0.19 and 1−0.999² = 0.001999.
	want2 := []float64{
		want1[0] - 0.1*(0.055/0.19)/(math.Sqrt(0.00025975/0.001999)+1e-8),
		want1[1] - 0.1*(-0.07/0.19)/(math.Sqrt(0.001039/0.001999)+1e-8),
	}
	for i := range p {
		if math.Abs(p[i]-want1[i]) > 1e-15 {
			t.Errorf("after step 1, p[%d] = %.17g, want %.17g", i, p[i], want1[i])
		}
	}
	a.Update(p, []float64{0.1, 0.2})
	for i := range p {
		if math.Abs(p[i]-want2[i]) > 1e-14 {
			t.Errorf("after step 2, p[%d] = %.17g, want %.17g", i, p[i], want2[i])
		}
	}
	if a.T != 2 {
		t.Errorf("T = %d, want 2", a.T)
	}
	// Roughly: step 2 moved p[0] by −0.0803 and p[1] by +0.0511.
	if d := want2[0] - want1[0]; math.Abs(d+0.08030) > 1e-4 {
		t.Errorf("step 2 moved p[0] by %v, want ≈ −0.0803", d)
	}
}

func TestClipGradNorm(t *testing.T) {
	a, b := []float64{3}, []float64{0, 4}
	if n := ClipGradNorm(1, a, b); n != 5 {
		t.Errorf("norm before = %v, want 5", n)
	}
	c := 1 / (5 + 1e-6)
	if a[0] != 3*c || b[0] != 0 || b[1] != 4*c {
		t.Errorf("clipped to %v %v, want scaled by %v", a, b, c)
	}
	x := []float64{0.3, -0.4}
	if n := ClipGradNorm(1, x); math.Abs(n-0.5) > 1e-15 || x[0] != 0.3 || x[1] != -0.4 {
		t.Errorf("norm 0.5 under max 1: returned %v, changed to %v", n, x)
	}
}
