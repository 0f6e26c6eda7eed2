package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func randSlice(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// relErr is |a−b| / max(|a|, |b|, 1e-4): relative for gradients of ordinary size,
// absolute for gradients near zero.
func relErr(a, b float64) float64 {
	return math.Abs(a-b) / max(math.Abs(a), math.Abs(b), 1e-4)
}

// fivePoint is the fourth-order central difference
// (−f(x+2h) + 8f(x+h) − 8f(x−h) + f(x−2h)) / 12h, whose truncation error (O(h⁴)) lets h
// be large enough that rounding in f stays negligible.
func fivePoint(f func(float64) float64, x, h float64) float64 {
	return (-f(x+2*h) + 8*f(x+h) - 8*f(x-h) + f(x-2*h)) / (12 * h)
}

// dot is the test loss Σ c_i y_i.
func dot(c, y []float64) float64 {
	var s float64
	for i := range y {
		s += c[i] * y[i]
	}
	return s
}

// checkMLPGradient compares Backward's gradient of Σ c_i y_i against central finite
// differences with step h for the parameters listed in idx (all when nil).
func checkMLPGradient(t *testing.T, m *MLP, x []float64, batch int, idx []int, h float64) {
	t.Helper()
	rng := newRNG(7)
	c := randSlice(rng, batch*m.Out())
	m.ZeroGrad()
	m.Forward(x, batch)
	m.Backward(c)
	if idx == nil {
		idx = make([]int, len(m.Params))
		for i := range idx {
			idx[i] = i
		}
	}
	worst := 0.0
	for _, i := range idx {
		p := m.Params[i]
		f := func(v float64) float64 {
			m.Params[i] = v
			return dot(c, m.Forward(x, batch))
		}
		num := fivePoint(f, p, h)
		m.Params[i] = p
		e := relErr(m.Grads[i], num)
		worst = max(worst, e)
		if e > 1e-6 {
			t.Errorf("param %d: backward %.12g, finite difference %.12g, rel error %.2g", i, m.Grads[i], num, e)
		}
	}
	t.Logf("worst relative error over %d parameters: %.2g", len(idx), worst)
}

func TestMLPGradientFiniteDifferences(t *testing.T) {
	for _, act := range []Activation{Tanh, ReLU, Identity} {
		t.Run(act.String(), func(t *testing.T) {
			rng := newRNG(1)
			m := NewMLP([]int{3, 6, 5, 2}, act, []float64{1.3, 1.1, 0.7}, rng)
			// Non-zero biases so every term of the gradient is exercised.
			for l := 0; l < m.Layers(); l++ {
				_, b := m.Layer(l)
				for i := range b {
					b[i] = 0.1 * rng.NormFloat64()
				}
			}
			const batch = 5
			checkMLPGradient(t, m, randSlice(rng, batch*3), batch, nil, 1e-3)
		})
	}
}

// TestMLPLargeBatchTiled covers shapes large enough that the matrix products are split
// into tiles: outputs against a plain triple loop, and a sample of gradients against
// finite differences.
func TestMLPLargeBatchTiled(t *testing.T) {
	rng := newRNG(2)
	sizes := []int{7, 200, 70, 3}
	m := NewMLP(sizes, Tanh, nil, rng)
	const batch = 300
	x := randSlice(rng, batch*sizes[0])
	y := m.Forward(x, batch)
	// Reference forward pass.
	cur := x
	for l := 0; l < m.Layers(); l++ {
		in, out := sizes[l], sizes[l+1]
		w, b := m.Layer(l)
		next := make([]float64, batch*out)
		for r := 0; r < batch; r++ {
			for o := 0; o < out; o++ {
				s := b[o]
				for i := 0; i < in; i++ {
					s += w[o*in+i] * cur[r*in+i]
				}
				if l < m.Layers()-1 {
					s = math.Tanh(s)
				}
				next[r*out+o] = s
			}
		}
		cur = next
	}
	for i := range y {
		if math.Abs(y[i]-cur[i]) > 1e-12*max(1, math.Abs(cur[i])) {
			t.Fatalf("output %d: %.15g, reference %.15g", i, y[i], cur[i])
		}
	}
	idx := make([]int, 60)
	for i := range idx {
		idx[i] = rng.IntN(len(m.Params))
	}
	checkMLPGradient(t, m, x, batch, idx, 1e-3)
}

func TestMLPBatchRowsIndependent(t *testing.T) {
	rng := newRNG(3)
	m := NewMLP([]int{4, 16, 16, 3}, ReLU, nil, rng)
	const batch = 9
	x := randSlice(rng, batch*4)
	all := append([]float64(nil), m.Forward(x, batch)...)
	for r := 0; r < batch; r++ {
		one := m.Forward(x[r*4:(r+1)*4], 1)
		for j := range one {
			if one[j] != all[r*3+j] {
				t.Fatalf("row %d output %d: alone %v, in batch %v", r, j, one[j], all[r*3+j])
			}
		}
	}
}

func TestMLPBackwardAccumulates(t *testing.T) {
	rng := newRNG(4)
	m := NewMLP([]int{2, 4, 2}, Tanh, nil, rng)
	x := randSlice(rng, 6)
	dy := randSlice(rng, 6)
	m.Forward(x, 3)
	m.Backward(dy)
	once := append([]float64(nil), m.Grads...)
	m.Backward(dy)
	for i := range once {
		if math.Abs(m.Grads[i]-2*once[i]) > 1e-15*math.Abs(once[i]) {
			t.Fatalf("grad %d after two Backward: %v, want 2×%v", i, m.Grads[i], once[i])
		}
	}
	m.ZeroGrad()
	for i, g := range m.Grads {
		if g != 0 {
			t.Fatalf("grad %d after ZeroGrad: %v", i, g)
		}
	}
}

func TestMLPDeterministicInit(t *testing.T) {
	a := NewMLP([]int{4, 8, 2}, Tanh, nil, newRNG(5))
	b := NewMLP([]int{4, 8, 2}, Tanh, nil, newRNG(5))
	c := NewMLP([]int{4, 8, 2}, Tanh, nil, newRNG(6))
	same := true
	for i := range a.Params {
		if a.Params[i] != b.Params[i] {
			t.Fatalf("param %d differs for the same seed", i)
		}
		same = same && a.Params[i] == c.Params[i]
	}
	if same {
		t.Fatal("different seeds gave the same parameters")
	}
	for l := 0; l < a.Layers(); l++ {
		_, bias := a.Layer(l)
		for i, v := range bias {
			if v != 0 {
				t.Fatalf("layer %d bias %d = %v, want 0", l, i, v)
			}
		}
	}
}

func TestCloneAndCopyFrom(t *testing.T) {
	rng := newRNG(8)
	m := NewMLP([]int{3, 5, 2}, ReLU, nil, rng)
	c := m.Clone()
	c.Params[0] += 1
	if m.Params[0] == c.Params[0] {
		t.Fatal("Clone shares parameters with the original")
	}
	c.CopyFrom(m)
	x := randSlice(rng, 6)
	want := append([]float64(nil), m.Forward(x, 2)...)
	got := c.Forward(x, 2)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("output %d after CopyFrom: %v, want %v", i, got[i], want[i])
		}
	}
}

func TestOrthogonalInit(t *testing.T) {
	for _, tc := range []struct {
		rows, cols int
		gain       float64
	}{{8, 8, math.Sqrt2}, {5, 12, 0.01}, {12, 5, 1}, {1, 4, 1}, {64, 64, 2}} {
		w := make([]float64, tc.rows*tc.cols)
		Orthogonal(w, tc.rows, tc.cols, tc.gain, newRNG(9))
		// The smaller Gram matrix (of rows when rows <= cols, else of columns) must be
		// gain² I.
		n, k, stride, step := tc.cols, tc.rows, 1, tc.cols // columns: Σ_r w[r][i] w[r][j]
		if tc.rows <= tc.cols {
			n, k, stride, step = tc.rows, tc.cols, tc.cols, 1
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for r := 0; r < k; r++ {
					s += w[i*stride+r*step] * w[j*stride+r*step]
				}
				want := 0.0
				if i == j {
					want = tc.gain * tc.gain
				}
				if math.Abs(s-want) > 1e-12*max(1, tc.gain*tc.gain) {
					t.Fatalf("%d×%d gain %v: Gram[%d][%d] = %v, want %v", tc.rows, tc.cols, tc.gain, i, j, s, want)
				}
			}
		}
	}
}

func TestValidateShape(t *testing.T) {
	for _, tc := range []struct {
		sizes []int
		n     int
		ok    bool
	}{
		{[]int{4, 64, 64, 2}, 4*64 + 64 + 64*64 + 64 + 64*2 + 2, true},
		{[]int{4, 2}, 10, true},
		{[]int{4, 2}, 9, false},
		{[]int{4}, 0, false},
		{nil, 0, false},
		{[]int{4, 0, 2}, 2, false},
		{[]int{4, -3, 2}, 0, false},
		{[]int{1 << 21, 2}, 0, false},
		{[]int{5000, 5000}, 5000*5000 + 5000, false}, // > MaxParams
	} {
		err := ValidateShape(tc.sizes, tc.n)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateShape(%v, %d) = %v, want ok=%v", tc.sizes, tc.n, err, tc.ok)
		}
		if tc.ok && NumParams(tc.sizes) != tc.n {
			t.Errorf("NumParams(%v) = %d, want %d", tc.sizes, NumParams(tc.sizes), tc.n)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	m := NewMLP([]int{3, 7, 2}, ReLU, nil, newRNG(10))
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got MLP
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.Hidden != ReLU || !equalInts(got.Sizes, m.Sizes) {
		t.Fatalf("decoded %v %v, want %v %v", got.Hidden, got.Sizes, m.Hidden, m.Sizes)
	}
	x := randSlice(newRNG(11), 6)
	want := append([]float64(nil), m.Forward(x, 2)...)
	for i, v := range got.Forward(x, 2) {
		if v != want[i] {
			t.Fatalf("decoded network output %d: %v, want %v", i, v, want[i])
		}
	}
	// Corrupt inputs are errors, never panics or huge allocations.
	huge := append([]byte(nil), b...)
	huge[16] = 0xff // first size -> enormous
	huge[17] = 0xff
	huge[18] = 0xff
	for name, data := range map[string][]byte{
		"empty":     nil,
		"truncated": b[:len(b)-3],
		"extra":     append(append([]byte(nil), b...), 0),
		"bad magic": append([]byte("XXXX"), b[4:]...),
		"huge size": huge,
	} {
		var d MLP
		if err := d.UnmarshalBinary(data); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// TestExportedFieldsSuffice builds a network from its exported fields alone, as a
// checkpoint decoder would.
func TestExportedFieldsSuffice(t *testing.T) {
	m := NewMLP([]int{2, 3, 1}, Tanh, nil, newRNG(12))
	d := &MLP{Sizes: m.Sizes, Hidden: m.Hidden, Params: append([]float64(nil), m.Params...)}
	x := []float64{0.3, -0.2}
	want := m.Forward(x, 1)[0]
	if got := d.Forward(x, 1)[0]; got != want {
		t.Fatalf("output %v, want %v", got, want)
	}
	d.Backward([]float64{1})
	if len(d.Grads) != len(d.Params) {
		t.Fatalf("Grads has %d entries, want %d", len(d.Grads), len(d.Params))
	}
}

func TestParseActivation(t *testing.T) {
	for _, a := range []Activation{Tanh, ReLU, Identity} {
		got, err := ParseActivation(a.String())
		if err != nil || got != a {
			t.Errorf("ParseActivation(%q) = %v, %v", a.String(), got, err)
		}
	}
	if _, err := ParseActivation("sigmoid"); err == nil {
		t.Error("ParseActivation(sigmoid) succeeded")
	}
}

func TestStepAllocations(t *testing.T) {
	rng := newRNG(13)
	m := NewMLP([]int{16, 64, 64, 5}, Tanh, nil, rng)
	opt := NewAdam(len(m.Params), 3e-4)
	x := randSlice(rng, 512*16)
	dy := randSlice(rng, 512*5)
	step := func(batch int) {
		m.ZeroGrad()
		m.Forward(x[:batch*16], batch)
		m.Backward(dy[:batch*5])
		ClipGradNorm(0.5, m.Grads)
		opt.Update(m.Params, m.Grads)
	}
	step(512) // grow the workspaces to the largest batch
	for _, batch := range []int{64, 1, 512, 300} {
		if a := testing.AllocsPerRun(20, func() { step(batch) }); a != 0 {
			t.Errorf("batch %d: %v allocations per step, want 0", batch, a)
		}
	}
}

// BenchmarkMLPStep times one training step of a 16-64-64-5 tanh MLP at batch 64:
// Forward, Backward, gradient clipping and an Adam update.
func BenchmarkMLPStep(b *testing.B) {
	rng := newRNG(14)
	m := NewMLP([]int{16, 64, 64, 5}, Tanh, nil, rng)
	opt := NewAdam(len(m.Params), 3e-4)
	const batch = 64
	x := randSlice(rng, batch*16)
	dy := randSlice(rng, batch*5)
	b.ReportAllocs()
	for b.Loop() {
		m.ZeroGrad()
		m.Forward(x, batch)
		m.Backward(dy)
		ClipGradNorm(0.5, m.Grads)
		opt.Update(m.Params, m.Grads)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/step")
}

// BenchmarkMLPForward1 times acting: one forward pass of a single observation.
func BenchmarkMLPForward1(b *testing.B) {
	rng := newRNG(15)
	m := NewMLP([]int{16, 64, 64, 5}, Tanh, nil, rng)
	x := randSlice(rng, 16)
	b.ReportAllocs()
	for b.Loop() {
		m.Forward(x, 1)
	}
}
