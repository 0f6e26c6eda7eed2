package nn

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Orthogonal fills w (rows×cols, row-major) with a (semi-)orthogonal matrix scaled by
// gain, as torch.nn.init.orthogonal_ does: the Q factor of the QR decomposition of a
// standard Gaussian matrix (transposed first when rows < cols), with the signs of its
// columns fixed by the signs of R's diagonal so that the result is uniformly
// distributed. Rows (rows <= cols) or columns (rows >= cols) come out orthonormal
// times gain. It allocates, and is meant for initialisation only.
func Orthogonal(w []float64, rows, cols int, gain float64, rng *rand.Rand) {
	if rows < 1 || cols < 1 || len(w) != rows*cols {
		panic(fmt.Sprintf("nn: Orthogonal: len(w) = %d for %d×%d", len(w), rows, cols))
	}
	// torch draws a rows×cols Gaussian and transposes it when rows < cols; a tall r×c
	// matrix is all we need to decompose.
	r, c := rows, cols
	if rows < cols {
		r, c = cols, rows
	}
	g := make([]float64, rows*cols)
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	a := mat.NewDense(rows, cols, g)
	var tall mat.Matrix = a
	if rows < cols {
		tall = a.T()
	}
	var qr mat.QR
	qr.Factorize(tall)
	var q, rr mat.Dense
	qr.QTo(&q) // r×r; the first c columns are the reduced Q
	qr.RTo(&rr)
	for j := 0; j < c; j++ {
		s := gain
		if rr.At(j, j) < 0 {
			s = -gain
		}
		for i := 0; i < r; i++ {
			v := q.At(i, j) * s
			if rows < cols {
				w[j*cols+i] = v // w = Qᵀ
			} else {
				w[i*cols+j] = v
			}
		}
	}
}
