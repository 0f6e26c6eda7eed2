package train

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/agents/dqn"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/agents/ppo"
	"github.com/intelliscale/intelliscale/env"
)

// Files a run writes in its directory.
const (
	ConfigFile      = "config.yaml"      // the resolved configuration
	ProgressFile    = "progress.csv"     // one row per PPO update or DQN episode
	CheckpointFile  = "checkpoint.bin"   // the latest checkpoint (atomic)
	PolicyFile      = "policy.json"      // the exported policy (at the end)
	RewardCurveFile = "reward_curve.png" // mean episode return against steps
)

// Run trains as cfg says, writing the files above into dir (created if needed),
// and returns the exported policy. When dir holds a checkpoint of the same
// configuration (Config.Hash) it resumes from it; the result is then the same, byte
// for byte, as an uninterrupted run. progress (nil for none) receives a progress
// bar.
func Run(cfg Config, dir string, progress io.Writer) (*policy.Policy, error) {
	return RunContext(context.Background(), cfg, dir, progress)
}

// RunContext is Run stopping with ctx's error when ctx is done (checked between
// PPO updates and DQN steps). What was checkpointed is kept: Run again resumes.
func RunContext(ctx context.Context, cfg Config, dir string, progress io.Writer) (*policy.Policy, error) {
	return run(ctx, cfg, dir, runOptions{progress: progress})
}

type runOptions struct {
	progress io.Writer
	// afterStep, when set, is called after every PPO update or DQN step with the
	// environment steps taken (tests use it to stop a run at a chosen point).
	afterStep func(step int)
}

// runState is what the algorithm loops share.
type runState struct {
	ctx      context.Context
	cfg      Config
	dir      string
	hash     string
	opt      runOptions
	csv      *os.File
	csvW     *bufio.Writer
	csvBytes int64
	episodes int
	bar      *bar
	lastT    time.Time
	lastStep int
}

func run(ctx context.Context, cfg Config, dir string, opt runOptions) (*policy.Policy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := cfg.Resolve(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	hash, err := cfg.Hash()
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	y, err := cfg.configFile()
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	ck, err := readCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if ck != nil && (ck.ConfigHash != hash || ck.Algorithm != cfg.Algorithm) {
		return nil, fmt.Errorf("train: %s holds a checkpoint of another configuration (%s, want %s): use a new directory",
			dir, ck.ConfigHash, hash)
	}
	if err := policy.WriteFileAtomic(filepath.Join(dir, ConfigFile), y); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	rs := &runState{ctx: ctx, cfg: cfg, dir: dir, hash: hash, opt: opt}
	if err := rs.openProgress(ck); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer rs.csv.Close()
	start := 0
	if ck != nil {
		start, rs.episodes = ck.GlobalStep, ck.Episodes
	}
	rs.bar = newBar(opt.progress, cfg.Steps, start)
	rs.lastT, rs.lastStep = time.Now(), start

	var p *policy.Policy
	switch cfg.Algorithm {
	case PPO:
		p, err = rs.runPPO(ck)
	case DQN:
		p, err = rs.runDQN(ck)
	}
	rs.bar.done()
	if err != nil {
		return nil, err
	}
	if err := rs.csvW.Flush(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := p.Save(filepath.Join(dir, PolicyFile)); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	title := fmt.Sprintf("%s on %s, seed %d", strings.ToUpper(cfg.Algorithm), strings.Join(p.Training.Traces, ", "), cfg.Seed)
	if err := plotRewardCurve(filepath.Join(dir, ProgressFile), filepath.Join(dir, RewardCurveFile), title); err != nil {
		return nil, fmt.Errorf("train: reward curve: %w", err)
	}
	return p, nil
}

// openProgress creates progress.csv, or on resume cuts it back to its length at the
// checkpoint (rows written after it are written again).
func (rs *runState) openProgress(ck *checkpoint) error {
	path := filepath.Join(rs.dir, ProgressFile)
	if ck == nil {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		rs.csv, rs.csvW = f, bufio.NewWriter(f)
		n, _ := rs.csvW.WriteString(strings.Join(progressColumns, ",") + "\n")
		rs.csvBytes = int64(n)
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("resuming: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() < ck.ProgressBytes {
		err = fmt.Errorf("%s: %d bytes, shorter than at the checkpoint (%d)", path, fi.Size(), ck.ProgressBytes)
	}
	if err == nil {
		err = f.Truncate(ck.ProgressBytes)
	}
	if err == nil {
		_, err = f.Seek(ck.ProgressBytes, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return err
	}
	rs.csv, rs.csvW, rs.csvBytes = f, bufio.NewWriter(f), ck.ProgressBytes
	return nil
}

func (rs *runState) writeRow(r row) {
	now := time.Now()
	if dt := now.Sub(rs.lastT).Seconds(); dt > 0 {
		r.stepsPerSecond = float64(r.step-rs.lastStep) / dt
	}
	rs.lastT, rs.lastStep = now, r.step
	n, _ := rs.csvW.WriteString(r.csv())
	rs.csvBytes += int64(n)
	rs.bar.update(r.step, r.episodeReturn, r.stepsPerSecond)
}

func (rs *runState) checkpoint(ck *checkpoint, p *policy.Policy) error {
	if err := rs.csvW.Flush(); err != nil {
		return err
	}
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	ck.Policy = b
	ck.Algorithm, ck.ConfigHash, ck.Episodes, ck.ProgressBytes = rs.cfg.Algorithm, rs.hash, rs.episodes, rs.csvBytes
	return writeCheckpoint(filepath.Join(rs.dir, CheckpointFile), ck)
}

// newEnv builds one environment copy, made checkpointable by replayEnv.
func (rs *runState) newEnv() (*replayEnv, error) {
	a, err := env.NewAutoscale(rs.cfg.Env)
	if err != nil {
		return nil, err
	}
	return &replayEnv{Env: a}, nil
}

// nextCheckpoint is the first multiple of every above step.
func nextCheckpoint(step, every int) int {
	if every <= 0 {
		return math.MaxInt
	}
	return (step/every + 1) * every
}

func nan() float64 { return math.NaN() }

func (rs *runState) runPPO(ck *checkpoint) (*policy.Policy, error) {
	if _, err := rs.newEnv(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var mult *multiplier
	if lc := rs.cfg.Lagrangian; lc.Enabled {
		mult = &multiplier{cfg: lc, lambda: *rs.cfg.Env.SLOWeight}
	}
	var envErr error
	t, err := ppo.NewTrainer(rs.cfg.PPO, func(int) env.Env {
		e, _ := rs.newEnv() // the configuration was checked above
		if mult == nil {
			return e
		}
		l, err := newLagrangeEnv(e, mult.lambda)
		if err != nil {
			envErr = cmp.Or(envErr, err)
			return nil // NewTrainer then fails; envErr says why
		}
		mult.envs = append(mult.envs, l)
		return l
	})
	if err != nil {
		err = cmp.Or(envErr, err)
	}
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer t.Close()
	if ck != nil {
		if err := restorePPO(t, ck.PPO); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if mult != nil {
			if !ck.PPO.HasMultiplier {
				return nil, errors.New("train: checkpoint: no Lagrange multiplier saved")
			}
			mult.set(ck.PPO.Multiplier)
		}
	}
	next := nextCheckpoint(t.GlobalStep, rs.cfg.CheckpointEvery)
	for !t.Done() {
		if err := rs.ctx.Err(); err != nil {
			return nil, err
		}
		st := t.Update()
		r := row{step: t.GlobalStep, episodeReturn: nan(), episodeLength: nan(),
			policyLoss: st.PolicyLoss, valueLoss: st.ValueLoss, entropy: st.Entropy, approxKL: st.ApproxKL,
			learningRate: st.LearningRate, tdLoss: nan(), qValues: nan(), epsilon: nan(),
			sloShare: nan(), multiplier: nan()}
		if mult != nil {
			mult.update()
			r.sloShare, r.multiplier = mult.share, mult.lambda
		}
		if n := len(st.EpisodeReturns); n > 0 {
			var sr, sl float64
			for i := range n {
				sr += st.EpisodeReturns[i]
				sl += float64(st.EpisodeLengths[i])
			}
			r.episodeReturn, r.episodeLength = sr/float64(n), sl/float64(n)
			rs.episodes += n
		}
		rs.writeRow(r)
		if t.GlobalStep >= next || t.Done() {
			next = nextCheckpoint(t.GlobalStep, rs.cfg.CheckpointEvery)
			s, err := savePPO(t)
			if err == nil && mult != nil {
				s.HasMultiplier, s.Multiplier = true, mult.lambda
			}
			var pol *policy.Policy
			if err == nil {
				pol, err = rs.ppoPolicy(t)
			}
			if err == nil {
				err = rs.checkpoint(&checkpoint{GlobalStep: t.GlobalStep, PPO: s}, pol)
			}
			if err != nil {
				return nil, fmt.Errorf("train: checkpoint: %w", err)
			}
		}
		if rs.opt.afterStep != nil {
			rs.opt.afterStep(t.GlobalStep)
		}
	}
	return rs.ppoPolicy(t)
}

// ppoPolicy exports the trainer's actor and observation statistics.
func (rs *runState) ppoPolicy(t *ppo.Trainer) (*policy.Policy, error) {
	p := t.Policy()
	a := p.Actor
	out := rs.newPolicy(policy.PPO, a.Sizes, a.Hidden.String(), a.Params, t.GlobalStep)
	if t.ObsRMS != nil {
		out.Normaliser = &policy.Normaliser{Mean: p.ObsMean, Var: p.ObsVar, Count: t.ObsRMS.Count, Clip: p.ObsClip}
	}
	return out, out.Validate()
}

func (rs *runState) runDQN(ck *checkpoint) (*policy.Policy, error) {
	e, err := rs.newEnv()
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var t *dqn.Trainer
	if ck != nil {
		t, err = restoreDQN(rs.cfg.DQN, ck.DQN, e)
	} else {
		t, err = dqn.NewTrainer(e, rs.cfg.DQN)
	}
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	next := nextCheckpoint(t.GlobalStep, rs.cfg.CheckpointEvery)
	for t.GlobalStep < rs.cfg.Steps {
		if err := rs.ctx.Err(); err != nil {
			return nil, err
		}
		s := t.Step()
		if s.Done {
			rs.episodes++
			r := row{step: s.Step, episodeReturn: s.EpisodeReturn, episodeLength: float64(s.EpisodeLength),
				policyLoss: nan(), valueLoss: nan(), entropy: nan(), approxKL: nan(), learningRate: t.Opt.LR,
				tdLoss: nan(), qValues: nan(), epsilon: s.Epsilon, sloShare: nan(), multiplier: nan()}
			if s.Updates > 0 {
				r.tdLoss, r.qValues = s.Loss, s.QMean
			}
			rs.writeRow(r)
		}
		if t.GlobalStep >= next || t.GlobalStep >= rs.cfg.Steps {
			next = nextCheckpoint(t.GlobalStep, rs.cfg.CheckpointEvery)
			st, err := saveDQN(t, e)
			if err == nil {
				err = rs.checkpoint(&checkpoint{GlobalStep: t.GlobalStep, DQN: st}, rs.dqnPolicy(t))
			}
			if err != nil {
				return nil, fmt.Errorf("train: checkpoint: %w", err)
			}
		}
		if rs.opt.afterStep != nil {
			rs.opt.afterStep(t.GlobalStep)
		}
	}
	out := rs.dqnPolicy(t)
	return out, out.Validate()
}

// dqnPolicy exports the trainer's Q-network.
func (rs *runState) dqnPolicy(t *dqn.Trainer) *policy.Policy {
	return rs.newPolicy(policy.DQN, t.Q.Sizes, t.Q.Hidden.String(), t.Q.Params, t.GlobalStep)
}

// newPolicy fills the parts of an exported policy common to both algorithms.
func (rs *runState) newPolicy(alg string, sizes []int, act string, params []float64, steps int) *policy.Policy {
	c := rs.cfg.Env
	sc := c.Sim
	p := &policy.Policy{
		Version: policy.Version, Algorithm: alg,
		Network:  policy.Network{Sizes: append([]int(nil), sizes...), Activation: act, Params: append([]float64(nil), params...)},
		Features: c.Features, Actions: append([]int(nil), c.Actions...),
		Sim: policy.SimInfo{
			ControlIntervalSeconds: sc.ControlInterval.Seconds(), ScrapeIntervalSeconds: sc.ScrapeInterval.Seconds(),
			SLOLatencySeconds: sc.SLO.Latency.Seconds(), SLOTarget: sc.SLO.Target,
			MinReplicas: sc.Min(), MaxReplicas: sc.MaxReplicas, Concurrency: sc.Concurrency,
		},
		Training: policy.TrainingInfo{Steps: steps, Episodes: rs.episodes, Seed: rs.cfg.Seed, ConfigHash: rs.hash},
	}
	for _, tr := range c.Traces {
		p.Training.Traces = append(p.Training.Traces, tr.Name)
	}
	return p
}

// Export returns the policy of the latest checkpoint in a run directory (training
// may be unfinished), with its step count; a finished run's is its policy.json.
func Export(dir string) (*policy.Policy, error) {
	ck, err := readCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return nil, err
	}
	if ck == nil {
		return nil, fmt.Errorf("%s: no %s: not a training run, or no checkpoint yet", dir, CheckpointFile)
	}
	p, err := policy.Unmarshal(ck.Policy)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CheckpointFile), err)
	}
	return p, nil
}

// HasCheckpoint reports whether dir holds a checkpoint Run would resume from.
func HasCheckpoint(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, CheckpointFile))
	return err == nil
}
