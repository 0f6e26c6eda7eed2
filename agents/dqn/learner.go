package dqn

import (
	"bytes"
	"encoding"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/nn"
	"github.com/intelliscale/intelliscale/env"
)

// Name is the algorithm's name in configurations and policy files.
const Name = "dqn"

// Algorithm is DQN as a learner.Algorithm: one Update is one environment step (and
// the gradient and target steps CleanRL's schedule puts on it); a progress row is
// written when an episode ends. Its learners can be warm-started by imitation
// (Trainer.Imitate, DQfD's pre-training).
func Algorithm() learner.Algorithm {
	return learner.Algorithm{
		Name: Name, Doc: "Deep Q-Learning after CleanRL's dqn.py (Double DQN optional)",
		NewConfig: func() learner.Config {
			c := DefaultConfig()
			return &c
		},
		Columns:  []string{"td_loss", "q_values", "epsilon", "learning_rate"},
		Imitates: true,
		New: func(cfg learner.Config, run learner.Run) (learner.Learner, error) {
			c, ok := cfg.(*Config)
			if !ok {
				return nil, fmt.Errorf("dqn: configuration of type %T", cfg)
			}
			e := run.NewEnv(0)
			if e == nil {
				return nil, errors.New("dqn: environment is nil")
			}
			t, err := NewTrainer(e, *c)
			if err != nil {
				return nil, err
			}
			return &dqnLearner{t: t, env: e}, nil
		},
	}
}

// SetBudget sets TotalSteps and Seed (learner.Config).
func (c *Config) SetBudget(steps int, seed uint64) { c.TotalSteps, c.Seed = steps, seed }

type dqnLearner struct {
	t   *Trainer
	env env.Env
}

func (l *dqnLearner) Done() bool { return l.t.GlobalStep >= l.t.Config.TotalSteps }
func (l *dqnLearner) Steps() int { return l.t.GlobalStep }
func (l *dqnLearner) Close()     {}

func (l *dqnLearner) Update() learner.Report {
	s := l.t.Step()
	if !s.Done {
		return learner.Report{}
	}
	r := learner.Report{Row: true, Episodes: []learner.Episode{{Return: s.EpisodeReturn, Length: s.EpisodeLength}},
		Values: []float64{math.NaN(), math.NaN(), s.Epsilon, l.t.Opt.LR}}
	if s.Updates > 0 {
		r.Values[0], r.Values[1] = s.Loss, s.QMean
	}
	return r
}

func (l *dqnLearner) Export() learner.Model {
	q := l.t.Q
	return learner.Model{Sizes: append([]int(nil), q.Sizes...), Activation: q.Hidden.String(),
		Params: append([]float64(nil), q.Params...)}
}

// snapshotMagic heads a DQN snapshot; the rest is a gob-encoded snapshot.
const snapshotMagic = "dqn/1\n"

// snapshot is the whole state of a Trainer between steps, its environment's included.
type snapshot struct {
	Q, Target     []byte
	Opt           nn.Adam
	Replay        Replay
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
	Env           []byte // the environment's MarshalBinary
}

func (l *dqnLearner) Snapshot() ([]byte, error) {
	t := l.t
	m, ok := l.env.(encoding.BinaryMarshaler)
	if !ok {
		return nil, fmt.Errorf("dqn: snapshot: environment %T has no MarshalBinary", l.env)
	}
	s := &snapshot{Opt: *t.Opt, Replay: *t.Replay, GlobalStep: t.GlobalStep, Updates: t.Updates, Episodes: t.Episodes,
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
	if s.Env, err = m.MarshalBinary(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(snapshotMagic)
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return nil, fmt.Errorf("dqn: snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// Restore rebuilds the trainer from a snapshot and restores its environment's episode.
func (l *dqnLearner) Restore(b []byte) error {
	if !bytes.HasPrefix(b, []byte(snapshotMagic)) {
		return errors.New("dqn: not a DQN snapshot of this format (want " + snapshotMagic[:len(snapshotMagic)-1] + ")")
	}
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(b[len(snapshotMagic):])).Decode(&s); err != nil {
		return fmt.Errorf("dqn: snapshot: %w", err)
	}
	u, ok := l.env.(encoding.BinaryUnmarshaler)
	if !ok {
		return fmt.Errorf("dqn: snapshot: environment %T has no UnmarshalBinary", l.env)
	}
	var q, target nn.MLP
	if err := q.UnmarshalBinary(s.Q); err != nil {
		return fmt.Errorf("dqn: snapshot: Q-network: %w", err)
	}
	if err := target.UnmarshalBinary(s.Target); err != nil {
		return fmt.Errorf("dqn: snapshot: target network: %w", err)
	}
	r := s.Replay
	if r.Cap < 1 || r.Dim < 1 || len(r.Obs) != r.Cap*r.Dim || len(r.NextObs) != r.Cap*r.Dim ||
		len(r.Actions) != r.Cap || len(r.Rewards) != r.Cap || len(r.Terminated) != r.Cap ||
		r.Pos < 0 || r.Pos >= r.Cap || r.Len < 0 || r.Len > r.Cap {
		return errors.New("dqn: snapshot: replay buffer sizes inconsistent")
	}
	if len(s.Opt.M) != len(q.Params) || len(s.Opt.V) != len(q.Params) {
		return fmt.Errorf("dqn: snapshot: optimiser for %d parameters, Q-network has %d", len(s.Opt.M), len(q.Params))
	}
	if err := u.UnmarshalBinary(s.Env); err != nil {
		return fmt.Errorf("dqn: snapshot: environment: %w", err)
	}
	opt := s.Opt
	t := &Trainer{Config: l.t.Config, Q: &q, Target: &target, Opt: &opt, Replay: &r, PCG: rand.NewPCG(0, 0),
		GlobalStep: s.GlobalStep, Updates: s.Updates, Episodes: s.Episodes, Obs: s.Obs, NeedReset: s.NeedReset,
		EpisodeReturn: s.EpisodeReturn, EpisodeLength: s.EpisodeLength, LastLoss: s.LastLoss, LastQ: s.LastQ}
	if err := t.PCG.UnmarshalBinary(s.PCG); err != nil {
		return fmt.Errorf("dqn: snapshot: generator: %w", err)
	}
	if err := t.Attach(l.env); err != nil {
		return fmt.Errorf("dqn: snapshot: %w", err)
	}
	l.t = t
	return nil
}

var _ learner.Config = (*Config)(nil)
