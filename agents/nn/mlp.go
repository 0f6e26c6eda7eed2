package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Activation is the nonlinearity applied after each hidden layer.
type Activation int

const (
	// Tanh is the hyperbolic tangent (CleanRL's PPO networks).
	Tanh Activation = iota
	// ReLU is max(0, x) (CleanRL's DQN network).
	ReLU
	// Identity applies no nonlinearity (a linear network).
	Identity
)

// String returns the lower-case name used in configuration files.
func (a Activation) String() string {
	switch a {
	case Tanh:
		return "tanh"
	case ReLU:
		return "relu"
	case Identity:
		return "identity"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation maps "tanh", "relu" or "identity" to an Activation.
func ParseActivation(s string) (Activation, error) {
	switch s {
	case "tanh":
		return Tanh, nil
	case "relu":
		return ReLU, nil
	case "identity":
		return Identity, nil
	}
	return 0, fmt.Errorf("nn: activation %q: want tanh, relu or identity", s)
}

func (a Activation) valid() bool { return a >= Tanh && a <= Identity }

// Limits on network shapes accepted by ValidateShape, so that a corrupt or hostile file
// can never make a loader allocate a huge buffer.
const (
	// MaxParams is the largest number of parameters (weights and biases) of a network.
	MaxParams = 10_000_000
	// MaxLayerSize is the largest width of any layer, input and output included.
	MaxLayerSize = 1 << 20
	// MaxLayers is the largest number of weight layers.
	MaxLayers = 64
)

// NumParams returns the number of weights and biases of an MLP with these layer sizes,
// or -1 if the sizes are invalid (see ValidateShape).
func NumParams(sizes []int) int {
	if len(sizes) < 2 || len(sizes)-1 > MaxLayers {
		return -1
	}
	n := 0
	for i, s := range sizes {
		if s < 1 || s > MaxLayerSize {
			return -1
		}
		if i > 0 {
			n += sizes[i-1]*s + s // both factors <= 2^20: no overflow
			if n > MaxParams {
				return -1
			}
		}
	}
	return n
}

// ValidateShape checks that sizes describe a sane MLP (at least an input and an output
// layer, every width in [1, MaxLayerSize], at most MaxLayers layers and MaxParams
// parameters) and that it has exactly nParams parameters.
func ValidateShape(sizes []int, nParams int) error {
	if len(sizes) < 2 {
		return fmt.Errorf("nn: sizes %v: need at least an input and an output size", sizes)
	}
	if len(sizes)-1 > MaxLayers {
		return fmt.Errorf("nn: sizes: %d layers, at most %d allowed", len(sizes)-1, MaxLayers)
	}
	n := 0
	for i, s := range sizes {
		if s < 1 || s > MaxLayerSize {
			return fmt.Errorf("nn: sizes[%d] = %d: must be in [1, %d]", i, s, MaxLayerSize)
		}
		if i > 0 {
			n += sizes[i-1]*s + s
			if n > MaxParams {
				return fmt.Errorf("nn: sizes %v: more than %d parameters", sizes, MaxParams)
			}
		}
	}
	if n != nParams {
		return fmt.Errorf("nn: sizes %v need %d parameters, have %d", sizes, n, nParams)
	}
	return nil
}

// MLP is a fully connected network: hidden layers with the Hidden activation and a
// linear output layer. Batches are row-major: one sample per row.
//
// Params holds layer after layer the weights W (out×in, row-major) then the biases b
// (out), so a layer computes y = W x + b per sample. Grads has the same layout;
// Backward adds to it and ZeroGrad clears it.
type MLP struct {
	Sizes  []int      // layer widths, input first, e.g. {4, 64, 64, 2}
	Hidden Activation // activation after every layer but the last
	Params []float64  // all weights and biases, flat
	Grads  []float64  // gradient of the loss with respect to Params, same layout

	offsets []int       // offsets[l]: start of layer l's W in Params; len = layers+1
	acts    [][]float64 // acts[0]: copy of the input; acts[l]: output of layer l
	delta   [2][]float64
	batch   int // batch of the last Forward
	cap     int // batch the workspaces hold
}

// NewMLP returns a network with the given layer sizes, weights initialised orthogonally
// with gain gains[l] for layer l (torch.nn.init.orthogonal_) and zero biases, as
// CleanRL's layer_init does. gains must have one entry per weight layer
// (len(sizes)-1); nil means √2 for every layer, layer_init's default.
//
// NewMLP panics on invalid sizes or gains: these come from code, not input; check
// sizes from a file with ValidateShape first.
func NewMLP(sizes []int, hidden Activation, gains []float64, rng *rand.Rand) *MLP {
	n := NumParams(sizes)
	if n < 0 {
		panic(ValidateShape(sizes, -1))
	}
	if !hidden.valid() {
		panic(fmt.Sprintf("nn: NewMLP: invalid activation %d", hidden))
	}
	layers := len(sizes) - 1
	if gains != nil && len(gains) != layers {
		panic(fmt.Sprintf("nn: NewMLP: %d gains for %d layers", len(gains), layers))
	}
	m := newMLP(sizes, hidden)
	for l := 0; l < layers; l++ {
		g := math.Sqrt2
		if gains != nil {
			g = gains[l]
		}
		w, _ := m.Layer(l)
		Orthogonal(w, sizes[l+1], sizes[l], g, rng)
	}
	return m
}

// newMLP allocates a zero network with valid sizes.
func newMLP(sizes []int, hidden Activation) *MLP {
	layers := len(sizes) - 1
	m := &MLP{
		Sizes:   append([]int(nil), sizes...),
		Hidden:  hidden,
		offsets: make([]int, layers+1),
		acts:    make([][]float64, layers+1),
	}
	off := 0
	for l := 0; l < layers; l++ {
		m.offsets[l] = off
		off += sizes[l]*sizes[l+1] + sizes[l+1]
	}
	m.offsets[layers] = off
	m.Params = make([]float64, off)
	m.Grads = make([]float64, off)
	return m
}

// In is the input width.
func (m *MLP) In() int { return m.Sizes[0] }

// Out is the output width.
func (m *MLP) Out() int { return m.Sizes[len(m.Sizes)-1] }

// Layers is the number of weight layers.
func (m *MLP) Layers() int { return len(m.Sizes) - 1 }

// Layer returns views of layer l's weights (out×in, row-major) and biases in Params.
func (m *MLP) Layer(l int) (w, b []float64) {
	return m.split(m.Params, l)
}

// GradLayer returns views of layer l's weight and bias gradients in Grads.
func (m *MLP) GradLayer(l int) (w, b []float64) {
	return m.split(m.Grads, l)
}

func (m *MLP) split(p []float64, l int) (w, b []float64) {
	if m.offsets == nil {
		m.init()
	}
	in, out := m.Sizes[l], m.Sizes[l+1]
	o := m.offsets[l]
	return p[o : o+in*out : o+in*out], p[o+in*out : o+in*out+out : o+in*out+out]
}

// init rebuilds the unexported layout of an MLP whose exported fields were set directly
// (for example decoded from a checkpoint).
func (m *MLP) init() {
	if err := ValidateShape(m.Sizes, len(m.Params)); err != nil {
		panic(err)
	}
	layers := len(m.Sizes) - 1
	m.offsets = make([]int, layers+1)
	m.acts = make([][]float64, layers+1)
	off := 0
	for l := 0; l < layers; l++ {
		m.offsets[l] = off
		off += m.Sizes[l]*m.Sizes[l+1] + m.Sizes[l+1]
	}
	m.offsets[layers] = off
	if len(m.Grads) != len(m.Params) {
		m.Grads = make([]float64, len(m.Params))
	}
	m.cap = 0
}

// grow makes the workspaces hold batch rows; it allocates only when batch exceeds every
// batch seen before.
func (m *MLP) grow(batch int) {
	if m.offsets == nil {
		m.init()
	}
	if batch <= m.cap {
		return
	}
	widest := 0
	for l, s := range m.Sizes {
		m.acts[l] = make([]float64, batch*s)
		widest = max(widest, s)
	}
	m.delta[0] = make([]float64, batch*widest)
	m.delta[1] = make([]float64, batch*widest)
	m.cap = batch
}

// Forward computes the outputs for batch inputs x (batch×In, row-major) and returns them
// (batch×Out, row-major). The result is a workspace of the network, valid until the next
// Forward. Forward keeps what Backward needs (a copy of x and every layer's output).
func (m *MLP) Forward(x []float64, batch int) []float64 {
	if batch < 1 || len(x) != batch*m.In() {
		panic(fmt.Sprintf("nn: Forward: len(x) = %d, want batch %d × in %d", len(x), batch, m.In()))
	}
	m.grow(batch)
	m.batch = batch
	copy(m.acts[0], x)
	last := m.Layers() - 1
	for l := 0; l <= last; l++ {
		in, out := m.Sizes[l], m.Sizes[l+1]
		w, b := m.Layer(l)
		xin := m.acts[l][:batch*in]
		y := m.acts[l+1][:batch*out]
		for r := 0; r < batch; r++ {
			copy(y[r*out:(r+1)*out], b)
		}
		// y (batch×out) += x (batch×in) · Wᵀ (in×out)
		gemm(blas.NoTrans, blas.Trans, batch, out, in, xin, in, w, in, y, out)
		if l < last {
			activate(m.Hidden, y)
		}
	}
	return m.acts[last+1][:batch*m.Out()]
}

// Backward takes dy = ∂loss/∂output of the last Forward (batch×Out, row-major) and adds
// ∂loss/∂Params to Grads. dy is not modified.
func (m *MLP) Backward(dy []float64) {
	batch := m.batch
	if batch == 0 {
		panic("nn: Backward before Forward")
	}
	if len(dy) != batch*m.Out() {
		panic(fmt.Sprintf("nn: Backward: len(dy) = %d, want batch %d × out %d", len(dy), batch, m.Out()))
	}
	delta := dy // ∂loss/∂(pre-activation) of the current layer: the output layer is linear
	for l := m.Layers() - 1; l >= 0; l-- {
		in, out := m.Sizes[l], m.Sizes[l+1]
		gw, gb := m.GradLayer(l)
		xin := m.acts[l][:batch*in]
		// gW (out×in) += deltaᵀ (out×batch) · x (batch×in)
		gemm(blas.Trans, blas.NoTrans, out, in, batch, delta, out, xin, in, gw, in)
		for r := 0; r < batch; r++ {
			row := delta[r*out : (r+1)*out]
			for j, d := range row {
				gb[j] += d
			}
		}
		if l == 0 {
			break
		}
		// dx (batch×in) = delta (batch×out) · W (out×in), then through the activation
		// of layer l-1, whose output is xin.
		w, _ := m.Layer(l)
		dx := m.delta[l&1][:batch*in]
		clear(dx)
		gemm(blas.NoTrans, blas.NoTrans, batch, in, out, delta, out, w, in, dx, in)
		activateGrad(m.Hidden, dx, xin)
		delta = dx
	}
}

// ZeroGrad sets Grads to zero.
func (m *MLP) ZeroGrad() { clear(m.Grads) }

// CopyFrom copies src's parameters into m (for target networks). The shapes must match.
func (m *MLP) CopyFrom(src *MLP) {
	if len(m.Params) != len(src.Params) || !equalInts(m.Sizes, src.Sizes) {
		panic(fmt.Sprintf("nn: CopyFrom: sizes %v from %v", m.Sizes, src.Sizes))
	}
	copy(m.Params, src.Params)
}

// Clone returns an independent network with the same shape, activation and parameters,
// zero gradients and fresh workspaces.
func (m *MLP) Clone() *MLP {
	c := newMLP(m.Sizes, m.Hidden)
	copy(c.Params, m.Params)
	return c
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func activate(a Activation, y []float64) {
	switch a {
	case Tanh:
		for i, v := range y {
			y[i] = math.Tanh(v)
		}
	case ReLU:
		for i, v := range y {
			if v < 0 {
				y[i] = 0
			}
		}
	}
}

// activateGrad multiplies d by the activation's derivative, written in terms of the
// activation's output y.
func activateGrad(a Activation, d, y []float64) {
	switch a {
	case Tanh:
		for i, v := range y {
			d[i] *= 1 - v*v
		}
	case ReLU:
		for i, v := range y {
			if v <= 0 {
				d[i] = 0
			}
		}
	}
}

// Tiles of C no larger than this keep gonum's Dgemm on its serial path: its parallel
// path (4 or more 64×64 blocks of C) starts goroutines, which allocates, and would
// compete for the cores with the other runs of an experiment.
const (
	tileRows = 64
	tileCols = 3 * 64
)

var impl = blas64.Implementation()

// gemm computes C += op(A)·op(B) for row-major C (m×n), tile by tile.
func gemm(tA, tB blas.Transpose, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	for i := 0; i < m; i += tileRows {
		mi := min(tileRows, m-i)
		ai := a[i*lda:]
		if tA == blas.Trans {
			ai = a[i:]
		}
		for j := 0; j < n; j += tileCols {
			nj := min(tileCols, n-j)
			bj := b[j:]
			if tB == blas.Trans {
				bj = b[j*ldb:]
			}
			impl.Dgemm(tA, tB, mi, nj, k, 1, ai, lda, bj, ldb, 1, c[i*ldc+j:], ldc)
		}
	}
}
