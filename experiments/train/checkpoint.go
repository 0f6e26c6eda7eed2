package train

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"github.com/intelliscale/intelliscale/agents/dqn"
	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/agents/ppo"
	"github.com/intelliscale/intelliscale/env"
)

// A checkpoint is taken where the whole training state is cheap to write: between
// PPO updates, or between DQN steps. It holds the networks, the Adam moments, the
// observation statistics, the PCG generator state, the counters, and each
// environment's state as its episode seed plus the actions taken since (replayEnv):
// the simulator in mid-episode is not serialised but re-created by replaying them.
//
// File layout: checkpointMagic, then a gob-encoded checkpoint.
const checkpointMagic = "INTELLISCALE-CHECKPOINT-1\n"

// maxCheckpointBytes bounds what readCheckpoint reads (the DQN replay buffer
// dominates: 1e6 transitions of 20 features is 320 MB).
const maxCheckpointBytes = 1 << 30

type checkpoint struct {
	Algorithm     string
	ConfigHash    string
	GlobalStep    int
	Episodes      int
	ProgressBytes int64 // length of progress.csv when the checkpoint was taken
	PPO           *ppoState
	DQN           *dqnState
	// Policy is the policy file of the state checkpointed (for Export).
	Policy []byte
}

type ppoState struct {
	Actor, Critic       []byte // nn.MLP.MarshalBinary
	ActorOpt, CriticOpt nn.Adam
	HasObsRMS           bool
	ObsMean, ObsVar     []float64
	ObsCount            float64
	RNG                 []byte // rand.PCG.MarshalBinary
	Iteration           int
	GlobalStep          int
	NextObs             []float64
	Envs                []byte // env.Vector.MarshalBinary
	// HasMultiplier and Multiplier hold the Lagrange multiplier (lagrangian.enabled).
	HasMultiplier bool
	Multiplier    float64
}

type dqnState struct {
	Q, Target     []byte
	Opt           nn.Adam
	Replay        dqn.Replay
	PCG           []byte
	GlobalStep    int
	Updates       int
	Episodes      int
	Obs           []float64
	NeedReset     bool
	EpisodeReturn float64
	EpisodeLength int
	LastLoss      float64
	LastQ         float64
	Env           []byte // replayEnv.MarshalBinary
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
		return nil, fmt.Errorf("%s: not a checkpoint of this format", path)
	}
	var ck checkpoint
	if err := gob.NewDecoder(bytes.NewReader(b[len(checkpointMagic):])).Decode(&ck); err != nil {
		return nil, fmt.Errorf("%s: decoding: %w", path, err)
	}
	return &ck, nil
}

func savePPO(t *ppo.Trainer) (*ppoState, error) {
	s := &ppoState{ActorOpt: *t.ActorOpt, CriticOpt: *t.CriticOpt, Iteration: t.Iteration, GlobalStep: t.GlobalStep,
		NextObs: append([]float64(nil), t.NextObs...)}
	var err error
	if s.Actor, err = t.Actor.MarshalBinary(); err != nil {
		return nil, err
	}
	if s.Critic, err = t.Critic.MarshalBinary(); err != nil {
		return nil, err
	}
	if t.ObsRMS != nil {
		s.HasObsRMS, s.ObsMean, s.ObsVar, s.ObsCount = true, t.ObsRMS.Mean, t.ObsRMS.Var, t.ObsRMS.Count
	}
	if s.RNG, err = t.RNG.MarshalBinary(); err != nil {
		return nil, err
	}
	if s.Envs, err = t.Envs.MarshalBinary(); err != nil {
		return nil, err
	}
	return s, nil
}

// restorePPO overwrites a freshly built trainer's state in place (its generator
// and networks are shared with unexported workspaces, so they are not replaced).
func restorePPO(t *ppo.Trainer, s *ppoState) error {
	if s == nil {
		return errors.New("checkpoint: no PPO state")
	}
	if err := restoreMLP(t.Actor, s.Actor, "actor"); err != nil {
		return err
	}
	if err := restoreMLP(t.Critic, s.Critic, "critic"); err != nil {
		return err
	}
	if err := restoreAdam(t.ActorOpt, &s.ActorOpt, "actor optimiser"); err != nil {
		return err
	}
	if err := restoreAdam(t.CriticOpt, &s.CriticOpt, "critic optimiser"); err != nil {
		return err
	}
	if s.HasObsRMS != (t.ObsRMS != nil) {
		return errors.New("checkpoint: observation normalisation differs from the configuration")
	}
	if t.ObsRMS != nil {
		d := t.ObsRMS.Dim()
		if len(s.ObsMean) != d || len(s.ObsVar) != d {
			return fmt.Errorf("checkpoint: observation statistics of length %d/%d, want %d", len(s.ObsMean), len(s.ObsVar), d)
		}
		copy(t.ObsRMS.Mean, s.ObsMean)
		copy(t.ObsRMS.Var, s.ObsVar)
		t.ObsRMS.Count = s.ObsCount
	}
	if len(s.NextObs) != len(t.NextObs) {
		return fmt.Errorf("checkpoint: %d next observations, want %d", len(s.NextObs), len(t.NextObs))
	}
	if err := t.RNG.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("checkpoint: generator: %w", err)
	}
	if err := t.Envs.UnmarshalBinary(s.Envs); err != nil {
		return fmt.Errorf("checkpoint: environments: %w", err)
	}
	copy(t.NextObs, s.NextObs)
	t.Iteration, t.GlobalStep = s.Iteration, s.GlobalStep
	return nil
}

func restoreMLP(dst *nn.MLP, b []byte, what string) error {
	var m nn.MLP
	if err := m.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("checkpoint: %s: %w", what, err)
	}
	if len(m.Params) != len(dst.Params) || m.Hidden != dst.Hidden || fmt.Sprint(m.Sizes) != fmt.Sprint(dst.Sizes) {
		return fmt.Errorf("checkpoint: %s of sizes %v, the configuration makes %v", what, m.Sizes, dst.Sizes)
	}
	copy(dst.Params, m.Params)
	return nil
}

func restoreAdam(dst, src *nn.Adam, what string) error {
	if len(src.M) != len(dst.M) || len(src.V) != len(dst.V) {
		return fmt.Errorf("checkpoint: %s for %d parameters, want %d", what, len(src.M), len(dst.M))
	}
	m, v := dst.M, dst.V
	*dst = *src
	dst.M, dst.V = m, v
	copy(dst.M, src.M)
	copy(dst.V, src.V)
	return nil
}

func saveDQN(t *dqn.Trainer, e *replayEnv) (*dqnState, error) {
	s := &dqnState{Opt: *t.Opt, Replay: *t.Replay, GlobalStep: t.GlobalStep, Updates: t.Updates, Episodes: t.Episodes,
		Obs: t.Obs, NeedReset: t.NeedReset, EpisodeReturn: t.EpisodeReturn, EpisodeLength: t.EpisodeLength,
		LastLoss: t.LastLoss, LastQ: t.LastQ}
	var err error
	if s.Q, err = t.Q.MarshalBinary(); err != nil {
		return nil, err
	}
	if s.Target, err = t.Target.MarshalBinary(); err != nil {
		return nil, err
	}
	if s.PCG, err = t.PCG.MarshalBinary(); err != nil {
		return nil, err
	}
	if s.Env, err = e.MarshalBinary(); err != nil {
		return nil, err
	}
	return s, nil
}

// restoreDQN rebuilds a trainer from a checkpoint on e, whose episode it restores.
func restoreDQN(cfg dqn.Config, s *dqnState, e *replayEnv) (*dqn.Trainer, error) {
	if s == nil {
		return nil, errors.New("checkpoint: no DQN state")
	}
	var q, target nn.MLP
	if err := q.UnmarshalBinary(s.Q); err != nil {
		return nil, fmt.Errorf("checkpoint: Q-network: %w", err)
	}
	if err := target.UnmarshalBinary(s.Target); err != nil {
		return nil, fmt.Errorf("checkpoint: target network: %w", err)
	}
	r := s.Replay
	if r.Cap < 1 || r.Dim < 1 || len(r.Obs) != r.Cap*r.Dim || len(r.NextObs) != r.Cap*r.Dim ||
		len(r.Actions) != r.Cap || len(r.Rewards) != r.Cap || len(r.Terminated) != r.Cap ||
		r.Pos < 0 || r.Pos >= r.Cap || r.Len < 0 || r.Len > r.Cap {
		return nil, errors.New("checkpoint: replay buffer sizes inconsistent")
	}
	if len(s.Opt.M) != len(q.Params) || len(s.Opt.V) != len(q.Params) {
		return nil, fmt.Errorf("checkpoint: optimiser for %d parameters, Q-network has %d", len(s.Opt.M), len(q.Params))
	}
	if err := e.UnmarshalBinary(s.Env); err != nil {
		return nil, fmt.Errorf("checkpoint: environment: %w", err)
	}
	opt := s.Opt
	t := &dqn.Trainer{Config: cfg, Q: &q, Target: &target, Opt: &opt, Replay: &r, PCG: rand.NewPCG(0, 0),
		GlobalStep: s.GlobalStep, Updates: s.Updates, Episodes: s.Episodes, Obs: s.Obs, NeedReset: s.NeedReset,
		EpisodeReturn: s.EpisodeReturn, EpisodeLength: s.EpisodeLength, LastLoss: s.LastLoss, LastQ: s.LastQ}
	if err := t.PCG.UnmarshalBinary(s.PCG); err != nil {
		return nil, fmt.Errorf("checkpoint: generator: %w", err)
	}
	if err := t.Attach(e); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return t, nil
}

var _ env.Env = (*replayEnv)(nil)
