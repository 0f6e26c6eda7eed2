package train

import (
	"encoding/binary"
	"fmt"

	"github.com/intelliscale/intelliscale/env"
)

// replayEnv makes an environment without serialisable state checkpointable: it
// records the seed of the current episode and the actions taken since, and restores
// the episode by resetting with that seed and replaying the actions. The autoscaling
// environment is deterministic given both, so the restored simulator is the same to
// the bit. The cost is at most one episode of simulation per environment on resume,
// and 4 bytes per step of the current episode in the checkpoint.
//
// With a fine-tune (FineTuneConfig), episodes started once fine is set run on the
// request-level simulator; the state records which model the current episode
// started on, so that it is replayed on that one.
type replayEnv struct {
	env.Env
	started bool
	seed    uint64
	actions []int32
	// base is the configuration's fidelity; fine makes the next episodes run on the
	// request-level simulator, onFine says the current one does.
	base         string
	fine, onFine bool
}

// setFidelity puts the wrapped environment's next episodes on the request-level
// simulator (fine) or on the configuration's model.
func (r *replayEnv) setFidelity(fine bool) {
	f := r.base
	if fine {
		f = env.FidelityRequest
	}
	if a, ok := r.Env.(*env.Autoscale); ok {
		_ = a.SetFidelity(f) // both are valid fidelities
	}
}

func (r *replayEnv) Reset(seed uint64) ([]float64, env.Info) {
	r.started, r.seed, r.actions = true, seed, r.actions[:0]
	if r.onFine != r.fine {
		r.setFidelity(r.fine)
		r.onFine = r.fine
	}
	return r.Env.Reset(seed)
}

func (r *replayEnv) Step(a int) ([]float64, float64, bool, bool, env.Info) {
	r.actions = append(r.actions, int32(a))
	return r.Env.Step(a)
}

// MarshalBinary encodes: started u8 | seed u64 | count u32 | actions i32...; started
// is 0 before the first episode, 1 for an episode on the configuration's model, 2
// for one on the request-level simulator (a fine-tune's).
func (r *replayEnv) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 13+4*len(r.actions))
	switch {
	case !r.started:
		b = append(b, 0)
	case r.onFine:
		b = append(b, 2)
	default:
		b = append(b, 1)
	}
	b = binary.LittleEndian.AppendUint64(b, r.seed)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(r.actions)))
	for _, a := range r.actions {
		b = binary.LittleEndian.AppendUint32(b, uint32(a))
	}
	return b, nil
}

// UnmarshalBinary replays the recorded episode on the wrapped environment.
func (r *replayEnv) UnmarshalBinary(b []byte) error {
	if len(b) < 13 {
		return fmt.Errorf("replay env: state of %d bytes, want at least 13", len(b))
	}
	if b[0] > 2 {
		return fmt.Errorf("replay env: state starts with %d, want 0, 1 or 2", b[0])
	}
	started, onFine := b[0] != 0, b[0] == 2
	seed := binary.LittleEndian.Uint64(b[1:])
	n := int(binary.LittleEndian.Uint32(b[9:]))
	if len(b) != 13+4*n {
		return fmt.Errorf("replay env: state of %d bytes for %d actions", len(b), n)
	}
	nA := r.Env.ActionSpace().N
	actions := make([]int32, n)
	for i := range actions {
		actions[i] = int32(binary.LittleEndian.Uint32(b[13+4*i:]))
		if actions[i] < 0 || int(actions[i]) >= nA {
			return fmt.Errorf("replay env: action %d of %d is %d, outside [0, %d)", i, n, actions[i], nA)
		}
	}
	r.started, r.seed, r.actions = started, seed, r.actions[:0]
	if !started {
		return nil
	}
	r.setFidelity(onFine)
	r.onFine = onFine
	r.Env.Reset(seed)
	for _, a := range actions {
		r.Env.Step(int(a))
	}
	r.actions = append(r.actions, actions...)
	return nil
}

var _ env.Env = (*replayEnv)(nil)
