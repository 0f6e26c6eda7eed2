package nn

import (
	"math"
	"math/rand/v2"
)

// logSumExp returns log Σ exp(x_i) and max x_i, computed stably.
func logSumExp(x []float64) (lse, mx float64) {
	mx = math.Inf(-1)
	for _, v := range x {
		mx = max(mx, v)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - mx)
	}
	return mx + math.Log(s), mx
}

// LogSoftmax writes log softmax(logits) into dst. dst may be logits itself.
func LogSoftmax(dst, logits []float64) {
	lse, _ := logSumExp(logits)
	for i, v := range logits {
		dst[i] = v - lse
	}
}

// Softmax writes softmax(logits) into dst. dst may be logits itself.
func Softmax(dst, logits []float64) {
	lse, _ := logSumExp(logits)
	for i, v := range logits {
		dst[i] = math.Exp(v - lse)
	}
}

// LogProb returns log softmax(logits)[a], the log-probability of action a.
func LogProb(logits []float64, a int) float64 {
	lse, _ := logSumExp(logits)
	return logits[a] - lse
}

// Entropy returns the entropy −Σ p log p of the categorical distribution softmax(logits).
func Entropy(logits []float64) float64 {
	lse, _ := logSumExp(logits)
	var h float64
	for _, v := range logits {
		lp := v - lse
		h -= math.Exp(lp) * lp
	}
	return h
}

// LogProbGrad writes ∂ log softmax(logits)[a] / ∂ logits = onehot(a) − softmax(logits)
// into dst. dst may be logits itself.
func LogProbGrad(dst, logits []float64, a int) {
	Softmax(dst, logits)
	for i := range dst {
		dst[i] = -dst[i]
	}
	dst[a]++
}

// EntropyGrad writes ∂H/∂logits = −p ⊙ (log p + H) into dst, with p = softmax(logits)
// and H its entropy. dst may be logits itself.
func EntropyGrad(dst, logits []float64) {
	lse, _ := logSumExp(logits)
	var h float64
	for _, v := range logits {
		lp := v - lse
		h -= math.Exp(lp) * lp
	}
	for i, v := range logits {
		lp := v - lse
		dst[i] = -math.Exp(lp) * (lp + h)
	}
}

// SampleCategorical draws an index from softmax(logits) with one uniform variate from
// rng, by inverting the cumulative distribution.
func SampleCategorical(logits []float64, rng *rand.Rand) int {
	lse, _ := logSumExp(logits)
	u := rng.Float64()
	var c float64
	for i, v := range logits {
		c += math.Exp(v - lse)
		if u < c {
			return i
		}
	}
	// Rounding left the cumulative sum just below 1: take the last action with
	// non-zero probability.
	for i := len(logits) - 1; i > 0; i-- {
		if math.Exp(logits[i]-lse) > 0 {
			return i
		}
	}
	return 0
}

// Argmax returns the index of the largest element, the first one on ties (like
// torch.argmax), or -1 for an empty slice.
func Argmax(x []float64) int {
	best := -1
	for i, v := range x {
		if best < 0 || v > x[best] {
			best = i
		}
	}
	return best
}
