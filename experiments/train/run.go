package train

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/env"
)

// Files a run writes in its directory.
const (
	ConfigFile      = "config.yaml"      // the resolved configuration
	ProgressFile    = "progress.csv"     // one row per update that asks for one (PPO: each; DQN: episode ends)
	CheckpointFile  = "checkpoint.bin"   // the latest checkpoint (atomic)
	PolicyFile      = "policy.json"      // the exported policy (at the end; the selected one with selection on)
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
// PPO updates and DQN steps, and by the simulator inside a step through
// sim.Config.Interrupt). What was checkpointed is kept: Run again resumes.
func RunContext(ctx context.Context, cfg Config, dir string, progress io.Writer) (*policy.Policy, error) {
	return run(ctx, cfg, dir, runOptions{progress: progress})
}

type runOptions struct {
	progress io.Writer
	// afterStep, when set, is called after every PPO update or DQN step with the
	// environment steps taken (tests use it to stop a run at a chosen point).
	afterStep func(step int)
	// warmStartStep, when set, is called after every step of the warm start's
	// rollouts with the environment steps taken in them so far (tests use it to
	// stop a warm start).
	warmStartStep func(step int)
	// warmStartFit, when set, is called each time a warm start's fit asks whether to
	// stop (before every minibatch), with the number of times so far, after the
	// answer is taken (tests use it to stop a fit, and to stop it just too late).
	warmStartFit func(n int)
	// evaluate, when set, replaces the simulation of a selection candidate (the
	// policy of step) on validation window i.
	evaluate func(step, i int) WindowResult
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
	envs     []*replayEnv // the learner's environment copies
	final    int          // the learner's step when its budget was spent
}

// resolveContext is cfg.Resolve, returning at once when ctx is done: loading large
// trace files takes seconds, and a Ctrl-C should not wait for it. Resolve writes
// nothing but its own copy of the config, dropped on interruption.
func resolveContext(ctx context.Context, cfg *Config) error {
	c := *cfg
	done := make(chan error, 1)
	go func() { done <- c.Resolve() }()
	select {
	case err := <-done:
		*cfg = c
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func run(ctx context.Context, cfg Config, dir string, opt runOptions) (*policy.Policy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, cfg.locate(err)
	}
	if err := resolveContext(ctx, &cfg); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		return nil, cfg.locate(err)
	}
	if cfg.Notes != nil {
		for _, n := range cfg.ResolvedNotes() {
			fmt.Fprintf(cfg.Notes, "note: %s\n", n)
		}
	}
	if cfg.Selection.Every > 0 && len(cfg.Validation) == 0 {
		return nil, fmt.Errorf("train: %w", errNoValidation)
	}
	hash, err := cfg.Hash()
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	y, err := cfg.resolvedYAML()
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	ck, err := readCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if ck != nil && (ck.ConfigHash != hash || ck.Algorithm != cfg.Algorithm) {
		return nil, fmt.Errorf("train: %s holds a checkpoint of another configuration (%s%s, want %s): use a new directory",
			dir, otherConfiguration(dir, y), ck.ConfigHash, hash)
	}
	if err := policy.WriteFileAtomic(filepath.Join(dir, ConfigFile), y); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	// Stop inside a simulated step too, not only between updates (Config.Hash and
	// the saved configuration do not see this hook).
	cfg.Env.Sim.Interrupt = func() bool { return ctx.Err() != nil }
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

	p, err := rs.train(ck)
	rs.bar.done(rs.final, err == nil)
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

// otherConfiguration says how the configuration of the checkpoint in dir, as the
// config.yaml there records it, differs from y, the one given now: "steps 8192 →
// 16384, seed 1 → 7; " ("" when it cannot tell).
func otherConfiguration(dir string, y []byte) string {
	was, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return ""
	}
	switch changes, ok := changedSettings(was, y); {
	case !ok:
		return ""
	case len(changes) == 0:
		return "the same settings in " + ConfigFile + ", other trace contents; "
	default:
		return strings.Join(changes, ", ") + "; "
	}
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
		n, _ := rs.csvW.WriteString(strings.Join(rs.columns(), ",") + "\n")
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
	return &replayEnv{Env: a, base: a.Config().Fidelity}, nil
}

// fineTune puts the learner's next episodes on the request-level simulator once
// the fine-tune's last steps of the budget begin (FineTuneConfig); it is called
// between updates, so the switch falls on the same step on every run and resume.
func (rs *runState) fineTune(step int) {
	ft := rs.cfg.FineTune
	if ft == nil || step < rs.cfg.Steps-ft.Steps {
		return
	}
	for _, e := range rs.envs {
		e.fine = true
	}
}

// nextCheckpoint is the first multiple of every above step.
func nextCheckpoint(step, every int) int {
	if every <= 0 {
		return math.MaxInt
	}
	return (step/every + 1) * every
}

func nan() float64 { return math.NaN() }

// train is the one training loop: build the algorithm's learner on environment
// copies, restore it from the checkpoint, then update, log, checkpoint until the
// budget is spent.
func (rs *runState) train(ck *checkpoint) (*policy.Policy, error) {
	alg := rs.cfg.algorithm()
	if _, err := rs.newEnv(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var mult *multiplier
	if lc := rs.cfg.Lagrangian; lc.Enabled {
		mult = &multiplier{cfg: lc, lambda: *rs.cfg.Env.SLOWeight}
	}
	var envErr error
	l, err := alg.New(rs.cfg.Learner, learner.Run{NewEnv: func(int) env.Env {
		e, _ := rs.newEnv() // the configuration was checked above
		rs.envs = append(rs.envs, e)
		if mult == nil {
			return e
		}
		le, err := newLagrangeEnv(e, mult.lambda)
		if err != nil {
			envErr = cmp.Or(envErr, err)
			return nil // New then fails; envErr says why
		}
		mult.envs = append(mult.envs, le)
		return le
	}})
	if err != nil {
		return nil, fmt.Errorf("train: %w", cmp.Or(envErr, err))
	}
	defer l.Close()
	if ck != nil {
		if err := l.Restore(ck.Learner); err != nil {
			return nil, fmt.Errorf("train: %s: %w", filepath.Join(rs.dir, CheckpointFile), err)
		}
		if mult != nil {
			if !ck.HasMultiplier {
				return nil, fmt.Errorf("train: %s: no Lagrange multiplier saved", filepath.Join(rs.dir, CheckpointFile))
			}
			mult.set(ck.Multiplier)
		}
	}
	rs.fineTune(l.Steps())
	sel, err := rs.newSelector(ck)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if ck == nil && rs.cfg.WarmStart != nil {
		// Checkpointed at once: a run interrupted later resumes after the warm start,
		// one interrupted during it does it again.
		if err := rs.warmStart(l); err != nil {
			return nil, err
		}
		if rs.cfg.CheckpointEvery > 0 {
			if err := rs.save(l, mult, sel); err != nil {
				return nil, err
			}
		}
	}
	next := nextCheckpoint(l.Steps(), rs.cfg.CheckpointEvery)
	for !l.Done() {
		if err := rs.ctx.Err(); err != nil {
			return nil, err
		}
		rep := l.Update()
		if err := rs.ctx.Err(); err != nil {
			return nil, err // the update may have seen an interrupted step: drop it
		}
		if mult != nil {
			mult.update()
		}
		rs.fineTune(l.Steps())
		rs.episodes += len(rep.Episodes)
		if rep.Row {
			r := row{step: l.Steps(), episodeReturn: nan(), episodeLength: nan(), values: rep.Values}
			if n := len(rep.Episodes); n > 0 {
				var sr, sl float64
				for _, e := range rep.Episodes {
					sr += e.Return
					sl += float64(e.Length)
				}
				r.episodeReturn, r.episodeLength = sr/float64(n), sl/float64(n)
			}
			if mult != nil {
				r.loop = []float64{mult.share, mult.lambda}
			}
			rs.writeRow(r)
		}
		if err := sel.due(l); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if l.Steps() >= next || l.Done() {
			next = nextCheckpoint(l.Steps(), rs.cfg.CheckpointEvery)
			if err := rs.save(l, mult, sel); err != nil {
				return nil, err
			}
		}
		if rs.opt.afterStep != nil {
			rs.opt.afterStep(l.Steps())
		}
	}
	rs.final = l.Steps()
	p, err := rs.export(l)
	if err != nil || sel == nil {
		return p, err
	}
	if p, err = sel.finish(l, p); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return p, nil
}

// save writes a checkpoint of the learner and the loop's state.
func (rs *runState) save(l learner.Learner, mult *multiplier, sel *selector) error {
	c := &checkpoint{GlobalStep: l.Steps()}
	var err error
	c.Learner, err = l.Snapshot()
	if mult != nil {
		c.HasMultiplier, c.Multiplier = true, mult.lambda
	}
	if err == nil {
		c.Selection, err = sel.snapshot()
	}
	var pol *policy.Policy
	if err == nil {
		pol, err = rs.export(l)
	}
	if err == nil {
		err = rs.checkpoint(c, pol)
	}
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return nil
}

// export makes the policy file of the learner's greedy policy.
func (rs *runState) export(l learner.Learner) (*policy.Policy, error) {
	m := l.Export()
	out := rs.newPolicy(rs.cfg.Algorithm, m.Sizes, m.Activation, m.Params, l.Steps())
	if z := m.Normaliser; z != nil {
		out.Normaliser = &policy.Normaliser{Mean: z.Mean, Var: z.Var, Count: z.Count, Clip: z.Clip}
	}
	return out, out.Validate()
}

// newPolicy fills the parts of an exported policy common to all algorithms.
func (rs *runState) newPolicy(alg string, sizes []int, act string, params []float64, steps int) *policy.Policy {
	c := rs.cfg.Env
	sc := c.Sim
	p := &policy.Policy{
		Version: policy.Version, Algorithm: alg,
		Network:  policy.Network{Sizes: append([]int(nil), sizes...), Activation: act, Params: append([]float64(nil), params...)},
		Features: c.Features, Actions: append([]int(nil), c.Actions...), ActionMode: c.ActionMode, Shield: c.Shield,
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
// may be unfinished), with its step count; with selection on, the best candidate
// evaluated by then. A finished run's is its policy.json.
func Export(dir string) (*policy.Policy, error) {
	ck, err := readCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return nil, err
	}
	if ck == nil {
		return nil, fmt.Errorf("%s: no %s: not a training run, or no checkpoint yet", dir, CheckpointFile)
	}
	b, err := ck.exported()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CheckpointFile), err)
	}
	p, err := policy.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CheckpointFile), err)
	}
	return p, nil
}

// Summary says what the run in dir that returned p did, for its final message:
// "trained ppo for 8192 steps (16 episodes)", with ", of the 10000 asked: whole
// updates only" after the steps when PPO's whole updates fell short of cfg.Steps,
// and with selection on "; selection chose the candidate at step 4096" (p's). The
// steps and episodes are those trained (with selection, policy-last.json's), not
// the selected policy's.
func Summary(dir string, cfg Config, p *policy.Policy) string {
	last := p
	if cfg.Selection.Every > 0 {
		if l, err := policy.Load(filepath.Join(dir, PolicyLastFile)); err == nil {
			last = l
		}
	}
	tr := last.Training
	s := fmt.Sprintf("trained %s for %d steps", p.Algorithm, tr.Steps)
	if tr.Steps < cfg.Steps {
		s += fmt.Sprintf(", of the %d asked: whole updates only", cfg.Steps)
	}
	s += fmt.Sprintf(" (%d episodes)", tr.Episodes)
	if ft := cfg.FineTune; ft != nil {
		s += fmt.Sprintf(", the last %d on the request-level simulator", ft.Steps)
	}
	if cfg.Selection.Every > 0 {
		s += fmt.Sprintf("; selection chose the candidate at step %d", p.Training.Steps)
	}
	return s
}

// HasCheckpoint reports whether dir holds a checkpoint Run would resume from.
func HasCheckpoint(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, CheckpointFile))
	return err == nil
}
