package env

// Box is a space of real vectors with per-dimension bounds (use ±Inf for unbounded).
type Box struct {
	Low, High []float64
}

// Discrete is the space of integers {0, ..., N-1}.
type Discrete struct {
	N int
}
