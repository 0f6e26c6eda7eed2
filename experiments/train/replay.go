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
type replayEnv struct {
	env.Env
	started bool
	seed    uint64
	actions []int32
}

func (r *replayEnv) Reset(seed uint64) ([]float64, env.Info) {
	r.started, r.seed, r.actions = true, seed, r.actions[:0]
	return r.Env.Reset(seed)
}

func (r *replayEnv) Step(a int) ([]float64, float64, bool, bool, env.Info) {
	r.actions = append(r.actions, int32(a))
	return r.Env.Step(a)
}

// MarshalBinary encodes: started u8 | seed u64 | count u32 | actions i32...
func (r *replayEnv) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 13+4*len(r.actions))
	if r.started {
		b = append(b, 1)
	} else {
		b = append(b, 0)
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
	started := b[0] == 1
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
	r.Env.Reset(seed)
	for _, a := range actions {
		r.Env.Step(int(a))
	}
	r.actions = append(r.actions, actions...)
	return nil
}

var _ env.Env = (*replayEnv)(nil)
