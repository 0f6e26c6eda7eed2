package dqn

import (
	"fmt"
	"math/rand/v2"
)

// Replay is a ring buffer of transitions in flat preallocated arrays: adding and
// sampling allocate nothing. Once full, each new transition overwrites the oldest. All
// fields are exported so a checkpoint can save and restore it.
type Replay struct {
	Dim        int       // observation length
	Cap        int       // capacity, in transitions
	Obs        []float64 // Cap×Dim observations
	NextObs    []float64 // Cap×Dim observations after the action
	Actions    []int32   // Cap actions
	Rewards    []float64 // Cap rewards
	Terminated []bool    // Cap flags: true if NextObs is terminal (no bootstrap)
	Pos        int       // slot the next transition goes to
	Len        int       // transitions held, at most Cap
}

// Clear empties the buffer (its arrays kept).
func (r *Replay) Clear() { r.Pos, r.Len = 0, 0 }

// NewReplay allocates a buffer for capacity transitions of dim-long observations.
func NewReplay(capacity, dim int) *Replay {
	return &Replay{
		Dim: dim, Cap: capacity,
		Obs:        make([]float64, capacity*dim),
		NextObs:    make([]float64, capacity*dim),
		Actions:    make([]int32, capacity),
		Rewards:    make([]float64, capacity),
		Terminated: make([]bool, capacity),
	}
}

// Add stores a transition, copying the observations.
func (r *Replay) Add(obs []float64, action int, reward float64, nextObs []float64, terminated bool) {
	if len(obs) != r.Dim || len(nextObs) != r.Dim {
		panic(fmt.Sprintf("dqn: Replay.Add: observations of %d and %d, want %d", len(obs), len(nextObs), r.Dim))
	}
	i := r.Pos
	copy(r.Obs[i*r.Dim:(i+1)*r.Dim], obs)
	copy(r.NextObs[i*r.Dim:(i+1)*r.Dim], nextObs)
	r.Actions[i] = int32(action)
	r.Rewards[i] = reward
	r.Terminated[i] = terminated
	r.Pos = (r.Pos + 1) % r.Cap
	r.Len = min(r.Len+1, r.Cap)
}

// Batch is a sample of transitions, row-major, reused across samples.
type Batch struct {
	N          int
	Obs        []float64 // N×Dim
	NextObs    []float64 // N×Dim
	Actions    []int
	Rewards    []float64
	Terminated []float64 // 1 if terminal, else 0
	Index      []int     // buffer slot of each row
}

// NewBatch allocates a batch of n transitions of dim-long observations.
func NewBatch(n, dim int) *Batch {
	return &Batch{
		N: n, Obs: make([]float64, n*dim), NextObs: make([]float64, n*dim),
		Actions: make([]int, n), Rewards: make([]float64, n), Terminated: make([]float64, n),
		Index: make([]int, n),
	}
}

// Sample fills b with b.N transitions drawn uniformly with replacement (as Stable
// Baselines3's ReplayBuffer, which CleanRL uses, does).
func (r *Replay) Sample(rng *rand.Rand, b *Batch) {
	if r.Len == 0 {
		panic("dqn: Replay.Sample from an empty buffer")
	}
	d := r.Dim
	for k := 0; k < b.N; k++ {
		i := rng.IntN(r.Len)
		b.Index[k] = i
		copy(b.Obs[k*d:(k+1)*d], r.Obs[i*d:(i+1)*d])
		copy(b.NextObs[k*d:(k+1)*d], r.NextObs[i*d:(i+1)*d])
		b.Actions[k] = int(r.Actions[i])
		b.Rewards[k] = r.Rewards[i]
		b.Terminated[k] = 0
		if r.Terminated[i] {
			b.Terminated[k] = 1
		}
	}
}
