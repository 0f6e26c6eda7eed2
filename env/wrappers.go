package env

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"math"
)

// RunningMeanStd tracks the mean and variance of a stream of vectors with the parallel
// (Chan et al.) update Gymnasium's RunningMeanStd uses. Its exported fields are its whole
// state, so it can be saved beside a policy and restored.
type RunningMeanStd struct {
	Mean, Var []float64
	// Count is the (fractional) number of samples seen; it starts at 1e-4 as in
	// Gymnasium, which keeps the first update from dividing by zero.
	Count float64

	bMean, bVar []float64 // workspaces for Update
}

// NewRunningMeanStd starts at mean 0, variance 1, count 1e-4 (Gymnasium's epsilon).
func NewRunningMeanStd(dim int) *RunningMeanStd {
	r := &RunningMeanStd{Mean: make([]float64, dim), Var: make([]float64, dim), Count: 1e-4}
	for i := range r.Var {
		r.Var[i] = 1
	}
	return r
}

// Dim is the vector length tracked.
func (r *RunningMeanStd) Dim() int { return len(r.Mean) }

// Update folds in a batch of n row-major vectors (len(batch) == n*Dim()), using the
// batch's population mean and variance.
func (r *RunningMeanStd) Update(batch []float64, n int) {
	d := r.Dim()
	if n <= 0 || len(batch) < n*d {
		return
	}
	if len(r.bMean) != d {
		r.bMean, r.bVar = make([]float64, d), make([]float64, d)
	}
	for j := range d {
		s := 0.0
		for i := range n {
			s += batch[i*d+j]
		}
		m := s / float64(n)
		v := 0.0
		for i := range n {
			e := batch[i*d+j] - m
			v += e * e
		}
		r.bMean[j], r.bVar[j] = m, v/float64(n)
	}
	r.UpdateFromMoments(r.bMean, r.bVar, float64(n))
}

// UpdateFromMoments folds in a batch summarised by its mean, population variance and size.
func (r *RunningMeanStd) UpdateFromMoments(mean, variance []float64, count float64) {
	tot := r.Count + count
	for j := range r.Mean {
		delta := mean[j] - r.Mean[j]
		m2 := r.Var[j]*r.Count + variance[j]*count + delta*delta*r.Count*count/tot
		r.Mean[j] += delta * count / tot
		r.Var[j] = m2 / tot
	}
	r.Count = tot
}

// normEpsilon is added to variances before the square root (Gymnasium's default 1e-8).
const normEpsilon = 1e-8

// Normalize writes (x - mean) / sqrt(var + 1e-8) into dst, clipped to [-clip, clip]
// when clip > 0. dst and x may be the same slice.
func (r *RunningMeanStd) Normalize(dst, x []float64, clip float64) {
	for j, v := range x {
		z := (v - r.Mean[j]) / math.Sqrt(r.Var[j]+normEpsilon)
		if clip > 0 {
			z = max(-clip, min(clip, z))
		}
		dst[j] = z
	}
}

// Clone returns an independent copy.
func (r *RunningMeanStd) Clone() *RunningMeanStd {
	return &RunningMeanStd{Mean: append([]float64(nil), r.Mean...), Var: append([]float64(nil), r.Var...), Count: r.Count}
}

// TimeLimit truncates episodes after MaxSteps steps, like Gymnasium's TimeLimit.
type TimeLimit struct {
	Env      Env
	MaxSteps int
	// Elapsed is the number of steps taken in the current episode.
	Elapsed int
}

// NewTimeLimit wraps e with a limit of maxSteps steps per episode.
func NewTimeLimit(e Env, maxSteps int) *TimeLimit { return &TimeLimit{Env: e, MaxSteps: maxSteps} }

func (t *TimeLimit) ObservationSpace() Box { return t.Env.ObservationSpace() }
func (t *TimeLimit) ActionSpace() Discrete { return t.Env.ActionSpace() }

func (t *TimeLimit) Reset(seed uint64) ([]float64, Info) {
	t.Elapsed = 0
	return t.Env.Reset(seed)
}

func (t *TimeLimit) Step(a int) ([]float64, float64, bool, bool, Info) {
	obs, r, term, trunc, info := t.Env.Step(a)
	t.Elapsed++
	if t.Elapsed >= t.MaxSteps {
		trunc = true
	}
	return obs, r, term, trunc, info
}

func (t *TimeLimit) MarshalBinary() ([]byte, error) {
	return marshalWrapped(t.Env, binary.LittleEndian.AppendUint64(nil, uint64(t.Elapsed)))
}

func (t *TimeLimit) UnmarshalBinary(b []byte) error {
	own, err := unmarshalWrapped(t.Env, b)
	if err != nil {
		return fmt.Errorf("time limit: %w", err)
	}
	if len(own) != 8 {
		return fmt.Errorf("time limit: own state of %d bytes, want 8", len(own))
	}
	t.Elapsed = int(binary.LittleEndian.Uint64(own))
	return nil
}

// EpisodeStatistics sums each episode's reward and length and sets Info.Episode on the
// step that ends it (terminated or truncated), like Gymnasium's RecordEpisodeStatistics.
// Put it inside reward-changing wrappers so it records the environment's own reward.
type EpisodeStatistics struct {
	Env    Env
	Return float64
	Length int
}

// NewEpisodeStatistics wraps e.
func NewEpisodeStatistics(e Env) *EpisodeStatistics { return &EpisodeStatistics{Env: e} }

func (s *EpisodeStatistics) ObservationSpace() Box { return s.Env.ObservationSpace() }
func (s *EpisodeStatistics) ActionSpace() Discrete { return s.Env.ActionSpace() }

func (s *EpisodeStatistics) Reset(seed uint64) ([]float64, Info) {
	s.Return, s.Length = 0, 0
	return s.Env.Reset(seed)
}

func (s *EpisodeStatistics) Step(a int) ([]float64, float64, bool, bool, Info) {
	obs, r, term, trunc, info := s.Env.Step(a)
	s.Return += r
	s.Length++
	if term || trunc {
		info.Episode = &EpisodeStats{Return: s.Return, Length: s.Length}
		s.Return, s.Length = 0, 0
	}
	return obs, r, term, trunc, info
}

func (s *EpisodeStatistics) MarshalBinary() ([]byte, error) {
	own := binary.LittleEndian.AppendUint64(nil, math.Float64bits(s.Return))
	own = binary.LittleEndian.AppendUint64(own, uint64(s.Length))
	return marshalWrapped(s.Env, own)
}

func (s *EpisodeStatistics) UnmarshalBinary(b []byte) error {
	own, err := unmarshalWrapped(s.Env, b)
	if err != nil {
		return fmt.Errorf("episode statistics: %w", err)
	}
	if len(own) != 16 {
		return fmt.Errorf("episode statistics: own state of %d bytes, want 16", len(own))
	}
	s.Return = math.Float64frombits(binary.LittleEndian.Uint64(own))
	s.Length = int(binary.LittleEndian.Uint64(own[8:]))
	return nil
}

// NormalizeObservation standardises observations with running statistics updated on
// every observation (reset ones included), like Gymnasium's NormalizeObservation. The
// statistics belong with the policy trained on them: export them with Stats, restore
// them with SetStats, and set Frozen to stop updating them during evaluation.
type NormalizeObservation struct {
	Env Env
	RMS *RunningMeanStd
	// Clip bounds normalised values to [-Clip, Clip]; 0 (the default) means no clipping.
	Clip float64
	// Frozen stops statistic updates (evaluation).
	Frozen bool

	obs []float64
}

// NewNormalizeObservation wraps e with fresh statistics; clip 0 disables clipping.
func NewNormalizeObservation(e Env, clip float64) *NormalizeObservation {
	d := e.ObservationSpace().Dim()
	return &NormalizeObservation{Env: e, RMS: NewRunningMeanStd(d), Clip: clip, obs: make([]float64, d)}
}

// ObservationSpace is unbounded, or [-Clip, Clip] when clipping.
func (n *NormalizeObservation) ObservationSpace() Box {
	d := n.Env.ObservationSpace().Dim()
	b := Box{Low: make([]float64, d), High: make([]float64, d)}
	lim := math.Inf(1)
	if n.Clip > 0 {
		lim = n.Clip
	}
	for i := range d {
		b.Low[i], b.High[i] = -lim, lim
	}
	return b
}

func (n *NormalizeObservation) ActionSpace() Discrete { return n.Env.ActionSpace() }

func (n *NormalizeObservation) Reset(seed uint64) ([]float64, Info) {
	obs, info := n.Env.Reset(seed)
	return n.normalize(obs), info
}

func (n *NormalizeObservation) Step(a int) ([]float64, float64, bool, bool, Info) {
	obs, r, term, trunc, info := n.Env.Step(a)
	return n.normalize(obs), r, term, trunc, info
}

func (n *NormalizeObservation) normalize(obs []float64) []float64 {
	if !n.Frozen {
		n.RMS.Update(obs, 1)
	}
	n.RMS.Normalize(n.obs, obs, n.Clip)
	return n.obs
}

// Stats returns copies of the running mean, variance and count.
func (n *NormalizeObservation) Stats() (mean, variance []float64, count float64) {
	c := n.RMS.Clone()
	return c.Mean, c.Var, c.Count
}

// SetStats restores statistics saved with a policy.
func (n *NormalizeObservation) SetStats(mean, variance []float64, count float64) error {
	d := n.RMS.Dim()
	if len(mean) != d || len(variance) != d {
		return fmt.Errorf("normalize observation: stats of length %d/%d, want %d", len(mean), len(variance), d)
	}
	if !(count > 0) {
		return fmt.Errorf("normalize observation: count %g, want > 0", count)
	}
	for i, v := range variance {
		if !(v >= 0) {
			return fmt.Errorf("normalize observation: variance[%d] = %g, want >= 0", i, v)
		}
	}
	copy(n.RMS.Mean, mean)
	copy(n.RMS.Var, variance)
	n.RMS.Count = count
	return nil
}

// NormalizeReward scales rewards by the running standard deviation of the discounted
// return, like Gymnasium's NormalizeReward: ret = ret*gamma*(1-terminated) + r, and the
// reward is divided by sqrt(var(ret) + 1e-8). The mean is not subtracted.
type NormalizeReward struct {
	Env   Env
	Gamma float64
	RMS   *RunningMeanStd // one dimension: the discounted return
	// Frozen stops statistic updates (evaluation).
	Frozen bool
	// Ret is the running discounted return.
	Ret float64

	one [1]float64
}

// NewNormalizeReward wraps e with discount gamma (Gymnasium's default is 0.99).
func NewNormalizeReward(e Env, gamma float64) *NormalizeReward {
	return &NormalizeReward{Env: e, Gamma: gamma, RMS: NewRunningMeanStd(1)}
}

func (n *NormalizeReward) ObservationSpace() Box { return n.Env.ObservationSpace() }
func (n *NormalizeReward) ActionSpace() Discrete { return n.Env.ActionSpace() }

// Reset zeroes the discounted return. (Gymnasium carries it across a truncation; a
// new episode's return should not include the last one's.)
func (n *NormalizeReward) Reset(seed uint64) ([]float64, Info) {
	n.Ret = 0
	return n.Env.Reset(seed)
}

func (n *NormalizeReward) Step(a int) ([]float64, float64, bool, bool, Info) {
	obs, r, term, trunc, info := n.Env.Step(a)
	if term {
		n.Ret = 0
	} else {
		n.Ret *= n.Gamma
	}
	n.Ret += r
	if !n.Frozen {
		n.one[0] = n.Ret
		n.RMS.Update(n.one[:], 1)
	}
	return obs, r / math.Sqrt(n.RMS.Var[0]+normEpsilon), term, trunc, info
}

// marshalWrapped appends the wrapped env's state (when it has one) to a wrapper's own
// state, prefixed by the own state's length.
func marshalWrapped(inner Env, own []byte) ([]byte, error) {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(own)))
	b = append(b, own...)
	if m, ok := inner.(encoding.BinaryMarshaler); ok {
		ib, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b = append(b, ib...)
	}
	return b, nil
}

// unmarshalWrapped restores the wrapped env and returns the wrapper's own state.
func unmarshalWrapped(inner Env, b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("state of %d bytes is too short", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b))
	if len(b) < 4+n {
		return nil, fmt.Errorf("state of %d bytes, header says %d", len(b), 4+n)
	}
	own, rest := b[4:4+n], b[4+n:]
	if u, ok := inner.(encoding.BinaryUnmarshaler); ok {
		if err := u.UnmarshalBinary(rest); err != nil {
			return nil, err
		}
	}
	return own, nil
}
