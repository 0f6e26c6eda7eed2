// Package nn holds the small neural-network toolkit the learners share: multilayer
// perceptrons with hand-written forward and backward passes on gonum BLAS, orthogonal
// initialisation, Adam, global-norm gradient clipping, a categorical head and the usual
// losses.
//
// Everything works on flat []float64 slices with explicit workspaces: after the workspaces
// have grown to the largest batch seen, a training step (Forward, Backward, ClipGradNorm,
// Adam.Update) allocates nothing. Every gradient is checked against central finite
// differences in the tests.
package nn
