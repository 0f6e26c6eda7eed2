package train

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/intelliscale/intelliscale/agents/policy"
)

// A checkpoint is taken where the whole training state is cheap to write: between
// two updates of the learner (PPO: rollouts; DQN: steps). It holds the learner's
// Snapshot, an opaque section that names its algorithm and format (the networks, the
// Adam moments, the observation statistics, the PCG generator state, the counters,
// and each environment's state as its episode seed plus the actions taken since,
// replayEnv: the simulator in mid-episode is not serialised but re-created by
// replaying them), the training loop's own state and the policy at that point.
//
// File layout: checkpointMagic, then a gob-encoded checkpoint. Format 1 (before
// learners were one interface) is refused with a message.
const checkpointMagic = "INTELLISCALE-CHECKPOINT-2\n"

// checkpointPrefix is what every format's magic starts with.
const checkpointPrefix = "INTELLISCALE-CHECKPOINT-"

// maxCheckpointBytes bounds what readCheckpoint reads (the DQN replay buffer
// dominates: 1e6 transitions of 20 features is 320 MB).
const maxCheckpointBytes = 1 << 30

type checkpoint struct {
	Algorithm     string
	ConfigHash    string
	GlobalStep    int
	Episodes      int
	ProgressBytes int64 // length of progress.csv when the checkpoint was taken
	// Learner is the learner's Snapshot.
	Learner []byte
	// HasMultiplier and Multiplier hold the Lagrange multiplier (lagrangian.enabled).
	HasMultiplier bool
	Multiplier    float64
	// Policy is the policy file of the state checkpointed (for Export).
	Policy []byte
	// Selection is the gob-encoded selectionState (selection.every > 0).
	Selection []byte
}

func writeCheckpoint(path string, ck *checkpoint) error {
	var buf bytes.Buffer
	buf.WriteString(checkpointMagic)
	if err := gob.NewEncoder(&buf).Encode(ck); err != nil {
		return fmt.Errorf("checkpoint: encoding: %w", err)
	}
	return policy.WriteFileAtomic(path, buf.Bytes())
}

// readCheckpoint returns nil, nil when there is no checkpoint at path.
func readCheckpoint(path string) (*checkpoint, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCheckpointBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxCheckpointBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxCheckpointBytes)
	}
	if !bytes.HasPrefix(b, []byte(checkpointMagic)) {
		if bytes.HasPrefix(b, []byte(checkpointPrefix)) {
			v, _, _ := bytes.Cut(b[len(checkpointPrefix):], []byte("\n"))
			return nil, fmt.Errorf("%s: a checkpoint of format %.8q, this build reads format 2: train again in a new directory", path, v)
		}
		return nil, fmt.Errorf("%s: not a checkpoint", path)
	}
	var ck checkpoint
	if err := gob.NewDecoder(bytes.NewReader(b[len(checkpointMagic):])).Decode(&ck); err != nil {
		return nil, fmt.Errorf("%s: decoding: %w", path, err)
	}
	return &ck, nil
}
