package ppo

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"

	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/nn"
)

// Name is the algorithm's name in configurations and policy files.
const Name = "ppo"

// Algorithm is PPO as a learner.Algorithm: one Update is one rollout and its
// minibatch epochs; its progress columns are CleanRL's losses and charts.
func Algorithm() learner.Algorithm {
	return learner.Algorithm{
		Name: Name, Doc: "Proximal Policy Optimization after CleanRL's ppo.py",
		NewConfig: func() learner.Config {
			c := DefaultConfig()
			c.NormalizeObs = true // the autoscaling features span several orders of magnitude
			return &c
		},
		Columns:  []string{"policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction", "explained_variance", "learning_rate"},
		OnPolicy: true,
		Imitates: true,
		New: func(cfg learner.Config, run learner.Run) (learner.Learner, error) {
			c, ok := cfg.(*Config)
			if !ok {
				return nil, fmt.Errorf("ppo: configuration of type %T", cfg)
			}
			t, err := NewTrainer(*c, run.NewEnv)
			if err != nil {
				return nil, err
			}
			return &ppoLearner{t: t}, nil
		},
	}
}

// SetBudget sets TotalSteps and Seed (learner.Config).
func (c *Config) SetBudget(steps int, seed uint64) { c.TotalSteps, c.Seed = steps, seed }

// Canonical is c with ParallelEnvs off: stepping in parallel gives the same result.
func (c *Config) Canonical() learner.Config {
	d := *c
	d.ParallelEnvs = false
	return &d
}

type ppoLearner struct{ t *Trainer }

func (l *ppoLearner) Done() bool { return l.t.Done() }
func (l *ppoLearner) Steps() int { return l.t.GlobalStep }
func (l *ppoLearner) Close()     { l.t.Close() }

// Trainer is the PPO trainer underneath (for tests comparing with its greedy policy).
func (l *ppoLearner) Trainer() *Trainer { return l.t }

func (l *ppoLearner) Update() learner.Report {
	st := l.t.Update()
	r := learner.Report{Row: true, Values: []float64{st.PolicyLoss, st.ValueLoss, st.Entropy, st.ApproxKL,
		st.ClipFrac, st.ExplainedVariance, st.LearningRate}}
	for i, ret := range st.EpisodeReturns {
		r.Episodes = append(r.Episodes, learner.Episode{Return: ret, Length: st.EpisodeLengths[i]})
	}
	return r
}

func (l *ppoLearner) Export() learner.Model {
	t := l.t
	a := t.Actor
	m := learner.Model{Sizes: append([]int(nil), a.Sizes...), Activation: a.Hidden.String(),
		Params: append([]float64(nil), a.Params...)}
	if t.ObsRMS != nil {
		m.Normaliser = &learner.Normaliser{Mean: append([]float64(nil), t.ObsRMS.Mean...),
			Var: append([]float64(nil), t.ObsRMS.Var...), Count: t.ObsRMS.Count, Clip: t.Config.ObsClip}
	}
	return m
}

// snapshotMagic heads a PPO snapshot; the rest is a gob-encoded snapshot.
const snapshotMagic = "ppo/1\n"

// snapshot is the whole state of a Trainer between updates.
type snapshot struct {
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
}

func (l *ppoLearner) Snapshot() ([]byte, error) {
	t := l.t
	s := &snapshot{ActorOpt: *t.ActorOpt, CriticOpt: *t.CriticOpt, Iteration: t.Iteration, GlobalStep: t.GlobalStep,
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
	var buf bytes.Buffer
	buf.WriteString(snapshotMagic)
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return nil, fmt.Errorf("ppo: snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// Restore overwrites the trainer's state in place (its generator and networks are
// shared with unexported workspaces, so they are not replaced).
func (l *ppoLearner) Restore(b []byte) error {
	if !bytes.HasPrefix(b, []byte(snapshotMagic)) {
		return errors.New("ppo: not a PPO snapshot of this format (want " + snapshotMagic[:len(snapshotMagic)-1] + ")")
	}
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(b[len(snapshotMagic):])).Decode(&s); err != nil {
		return fmt.Errorf("ppo: snapshot: %w", err)
	}
	t := l.t
	if err := nn.RestoreMLP(t.Actor, s.Actor); err != nil {
		return fmt.Errorf("ppo: snapshot: actor: %w", err)
	}
	if err := nn.RestoreMLP(t.Critic, s.Critic); err != nil {
		return fmt.Errorf("ppo: snapshot: critic: %w", err)
	}
	if err := t.ActorOpt.Restore(&s.ActorOpt); err != nil {
		return fmt.Errorf("ppo: snapshot: actor optimiser: %w", err)
	}
	if err := t.CriticOpt.Restore(&s.CriticOpt); err != nil {
		return fmt.Errorf("ppo: snapshot: critic optimiser: %w", err)
	}
	if s.HasObsRMS != (t.ObsRMS != nil) {
		return errors.New("ppo: snapshot: observation normalisation differs from the configuration")
	}
	if t.ObsRMS != nil {
		d := t.ObsRMS.Dim()
		if len(s.ObsMean) != d || len(s.ObsVar) != d {
			return fmt.Errorf("ppo: snapshot: observation statistics of length %d/%d, want %d", len(s.ObsMean), len(s.ObsVar), d)
		}
		copy(t.ObsRMS.Mean, s.ObsMean)
		copy(t.ObsRMS.Var, s.ObsVar)
		t.ObsRMS.Count = s.ObsCount
	}
	if len(s.NextObs) != len(t.NextObs) {
		return fmt.Errorf("ppo: snapshot: %d next observations, want %d", len(s.NextObs), len(t.NextObs))
	}
	if err := t.RNG.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("ppo: snapshot: generator: %w", err)
	}
	if err := t.Envs.UnmarshalBinary(s.Envs); err != nil {
		return fmt.Errorf("ppo: snapshot: environments: %w", err)
	}
	copy(t.NextObs, s.NextObs)
	t.Iteration, t.GlobalStep = s.Iteration, s.GlobalStep
	return nil
}

var (
	_ learner.Config      = (*Config)(nil)
	_ learner.Canonicaler = (*Config)(nil)
)
