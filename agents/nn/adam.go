package nn

import (
	"fmt"
	"math"
)

// Adam is the Adam optimiser with PyTorch's semantics (torch.optim.Adam, no weight
// decay, no amsgrad): with g the gradient and t the step count after increment,
//
//	m ← β1·m + (1-β1)·g
//	v ← β2·v + (1-β2)·g²
//	p ← p − lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + ε)
//
// All fields are exported so a checkpoint can save and restore the optimiser state.
type Adam struct {
	LR    float64   // learning rate; no default (NewAdam takes it)
	Beta1 float64   // first-moment decay; default 0.9
	Beta2 float64   // second-moment decay; default 0.999
	Eps   float64   // added to the denominator; default 1e-8 (CleanRL's PPO uses 1e-5)
	M, V  []float64 // first and second moment estimates, one per parameter
	T     int       // steps taken
}

// NewAdam returns an optimiser for n parameters with PyTorch's defaults.
func NewAdam(n int, lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, M: make([]float64, n), V: make([]float64, n)}
}

// Update takes one step: params -= the Adam step computed from grads.
func (a *Adam) Update(params, grads []float64) {
	if len(params) != len(a.M) || len(grads) != len(a.M) || len(a.V) != len(a.M) {
		panic(fmt.Sprintf("nn: Adam.Update: %d params, %d grads for an optimiser of %d (V %d)",
			len(params), len(grads), len(a.M), len(a.V)))
	}
	a.T++
	b1, b2 := a.Beta1, a.Beta2
	bc1 := 1 - math.Pow(b1, float64(a.T))
	bc2 := 1 - math.Pow(b2, float64(a.T))
	step := a.LR / bc1
	sqrtBC2 := math.Sqrt(bc2)
	m, v := a.M[:len(params)], a.V[:len(params)]
	grads = grads[:len(params)]
	for i, g := range grads {
		m[i] = b1*m[i] + (1-b1)*g
		v[i] = b2*v[i] + (1-b2)*g*g
		params[i] -= step * m[i] / (math.Sqrt(v[i])/sqrtBC2 + a.Eps)
	}
}

// Reset clears the moments and the step count.
func (a *Adam) Reset() {
	clear(a.M)
	clear(a.V)
	a.T = 0
}

// ClipGradNorm scales the gradient slices together so that their global L2 norm is at
// most maxNorm, as torch.nn.utils.clip_grad_norm_ does: when the norm exceeds maxNorm,
// every element is multiplied by maxNorm/(norm+1e-6). It returns the norm before
// clipping.
func ClipGradNorm(maxNorm float64, grads ...[]float64) (normBefore float64) {
	var ss float64
	for _, g := range grads {
		for _, v := range g {
			ss += v * v
		}
	}
	norm := math.Sqrt(ss)
	if c := maxNorm / (norm + 1e-6); c < 1 {
		for _, g := range grads {
			for i := range g {
				g[i] *= c
			}
		}
	}
	return norm
}
