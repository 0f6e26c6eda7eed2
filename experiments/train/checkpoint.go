package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
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
// File layout (format 3): checkpointMagic, a line "sha256:" + the hex SHA-256 of
// the rest, then the gob-encoded checkpoint. A file whose rest does not have that
// hash (a flipped bit, a truncated copy) is refused as damaged before anything is
// read from it. Format 2 (the same without the hash line) is still read, unchecked;
// format 1 (before learners were one interface) is refused with a message.
const checkpointMagic = "INTELLISCALE-CHECKPOINT-3\n"

// checkpointMagic2 heads a checkpoint of format 2: the gob follows at once.
const checkpointMagic2 = "INTELLISCALE-CHECKPOINT-2\n"

// checkpointPrefix is what every format's magic starts with.
const checkpointPrefix = "INTELLISCALE-CHECKPOINT-"

// IsCheckpoint reports whether the file at path starts as a training checkpoint of
// any format does, intact or not.
func IsCheckpoint(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(checkpointPrefix))
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == checkpointPrefix
}

// checkpointSumPrefix starts format 3's hash line.
const checkpointSumPrefix = "sha256:"

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
	head := len(checkpointMagic) + len(checkpointSumPrefix) + 2*sha256.Size + 1
	var buf bytes.Buffer
	buf.Write(make([]byte, head)) // filled in below, once the rest is known
	if err := gob.NewEncoder(&buf).Encode(ck); err != nil {
		return fmt.Errorf("checkpoint: encoding: %w", err)
	}
	b := buf.Bytes()
	sum := sha256.Sum256(b[head:])
	copy(b, checkpointMagic+checkpointSumPrefix+hex.EncodeToString(sum[:])+"\n")
	return policy.WriteFileAtomic(path, b)
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
	var body []byte
	switch {
	case bytes.HasPrefix(b, []byte(checkpointMagic)):
		line, rest, ok := bytes.Cut(b[len(checkpointMagic):], []byte("\n"))
		want, err := hex.DecodeString(string(bytes.TrimPrefix(line, []byte(checkpointSumPrefix))))
		sum := sha256.Sum256(rest)
		if !ok || !bytes.HasPrefix(line, []byte(checkpointSumPrefix)) || err != nil || !bytes.Equal(want, sum[:]) {
			return nil, fmt.Errorf("%s: damaged (its contents do not have the SHA-256 written with them): refused; train again in a new directory", path)
		}
		body = rest
	case bytes.HasPrefix(b, []byte(checkpointMagic2)):
		body = b[len(checkpointMagic2):] // written before checkpoints carried a hash
	case bytes.HasPrefix(b, []byte(checkpointPrefix)):
		v, _, _ := bytes.Cut(b[len(checkpointPrefix):], []byte("\n"))
		return nil, fmt.Errorf("%s: a checkpoint of format %.8q, this build reads formats 2 and 3: train again in a new directory", path, v)
	default:
		return nil, fmt.Errorf("%s: not a checkpoint", path)
	}
	var ck checkpoint
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(&ck); err != nil {
		return nil, fmt.Errorf("%s: decoding: %w", path, err)
	}
	return &ck, nil
}
