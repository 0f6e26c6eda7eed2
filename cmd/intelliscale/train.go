package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/experiments/train"
	"github.com/intelliscale/intelliscale/internal/buildinfo"
	"github.com/intelliscale/intelliscale/internal/outpath"
)

func init() {
	register(command{
		name:    "train",
		summary: "train a learned autoscaling policy (" + strings.Join(agents.LearnerNames(), ", ") + "; checkpoints, --resume, policy.json)",
		run:     runTrain,
	})
}

var trainHelp = `Trains a policy on the autoscaling environment as the YAML config says (strict:
unknown keys are errors). Top-level keys and defaults:
  algorithm         ` + strings.Join(agents.LearnerNames(), " | ") + ` (required)
  steps             environment steps over all copies (200000)
  seed              seed of everything random (1)
  checkpoint_every  env steps between checkpoints (steps/10; negative: only at the end)
  traces            list of {builtin: NAME} | {file: PATH} | {synth: SPEC, seed: N}
                    (the four built-in traces)
  split             train/validation/test fractions; training uses the train part ([0.6, 0.2, 0.2])
  traffic           whole traces to train on instead of those train parts:
                    {random: {count: N, seed: S}, traces: [...]} (none)
  windows           with traffic, train on the traces' train parts as well (false)
  recipe            start from named settings, the training of make bench-real's entry
                    (` + recipeList() + `); keys beside it win: steps,
                    traffic (with windows), and the others key by key (none)
  env               autoscaling env: sim, episode_length (2h), warmup (10m), actions,
                    rate_scale, cost_weight, slo_weight, drop_weight, features
  warm_start        imitate a rule policy first: {expert: oracle, params: {headroom: 0.2},
                    steps (20000), epochs (10), learning_rate (0.001), minibatch_size (256),
                    dagger_rounds (0), dagger_steps (steps/2)}; ppo and dqn (off)
  selection         checkpoint selection on the validation windows: {every: N env steps,
                    fidelity: request | fluid, max_actions_vs_oracle: 3} (off)
  ` + fmt.Sprintf("%-17s", strings.Join(agents.LearnerNames(), ", ")) + ` the algorithm's hyperparameters, under its name (CleanRL defaults;
                    see experiments/train/TRAINING.md)
The run directory receives config.yaml, build.txt (intelliscale version), progress.csv,
checkpoint.bin, policy.json and reward_curve.png (with warm_start also warm_start.csv,
with selection selection.csv and policy-last.json). Interrupt (Ctrl-C) keeps the last checkpoint; --resume continues from
it and ends with the same policy.json as an uninterrupted run. Without --resume, a directory
holding any of those files is refused; a training stopped before its first checkpoint removes
what it wrote. While a training runs, train.lock in its directory names its process, and a
second training of the directory is refused.`

// recipeList lists the recipes by algorithm: "ppo: benchmark, zero-shot; dqn: ...".
func recipeList() string {
	var parts []string
	for _, alg := range agents.LearnerNames() {
		if names := train.RecipeNames(alg); len(names) > 0 {
			parts = append(parts, alg+": "+strings.Join(names, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", "--config FILE [--out DIR] [--resume] [--quiet]\n\n"+trainHelp, stderr)
	cfgPath := fs.String("config", "", "training configuration (YAML), required")
	out := fs.String("out", "", "run directory (default runs/<config file name without extension>)")
	resume := fs.Bool("resume", false, "continue from the checkpoint in the run directory")
	quiet := fs.Bool("quiet", false, "no progress bar (also when the environment variable CI is true)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	cfg, err := train.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", strings.TrimSuffix(filepath.Base(*cfgPath), filepath.Ext(*cfgPath)))
	}
	var g outpath.Guard
	g.Input("--config", *cfgPath)
	for i, tr := range cfg.Traces {
		g.Input(fmt.Sprintf("traces[%d].file", i), tr.File)
	}
	if cfg.Traffic != nil {
		for i, tr := range cfg.Traffic.Traces {
			g.Input(fmt.Sprintf("traffic.traces[%d].file", i), tr.File)
		}
	}
	if err := g.Dir("--out", dir, runFiles...); err != nil {
		return err
	}
	if _, err := os.Stat(dir); err != nil && *resume {
		return fmt.Errorf("--resume: %s holds no checkpoint", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Held before looking at what the directory holds, so that a training
	// writing it is named rather than its files.
	unlock, err := lockRun(dir, stderr)
	if err != nil {
		return err
	}
	defer unlock()
	switch has := train.HasCheckpoint(dir); {
	case has && !*resume:
		return fmt.Errorf("%s holds a checkpoint: pass --resume to continue it, or choose another --out", dir)
	case !has && *resume:
		return fmt.Errorf("--resume: %s holds no checkpoint", dir)
	case !has:
		for _, f := range runFiles {
			if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
				return fmt.Errorf("--out %s holds %s, which a training would replace, and no checkpoint to resume: choose a new directory", dir, f)
			}
		}
	}
	var progress io.Writer = stderr
	if *quiet || os.Getenv("CI") == "true" {
		progress = nil
	}
	if err := buildinfo.Record(dir); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg.Notes = stderr
	p, err := train.RunContext(ctx, cfg, dir, progress)
	if err != nil && !*resume && !train.HasCheckpoint(dir) {
		// Nothing to resume: remove what this run wrote (the directory held none
		// of it), so that the same command runs again.
		for _, f := range runFiles {
			os.Remove(filepath.Join(dir, f))
		}
	}
	if errors.Is(err, context.Canceled) {
		if !train.HasCheckpoint(dir) && !*resume {
			return errors.New("interrupted before the first checkpoint; nothing to resume: run the same command again")
		}
		return fmt.Errorf("interrupted; resume with: intelliscale train --config %s --out %s --resume", *cfgPath, dir)
	}
	if err != nil {
		return err
	}
	// The policy file records the build beside its training metadata.
	p.Training.Build = buildinfo.Read().String()
	if err := p.Save(filepath.Join(dir, train.PolicyFile)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s\npolicy %s (%s)\n", train.Summary(dir, cfg, p), dir, filepath.Join(dir, train.PolicyFile), p.Checksum)
	return nil
}

// runFiles are the files a training writes in its run directory.
var runFiles = []string{train.ConfigFile, buildinfo.File, train.ProgressFile, train.CheckpointFile,
	train.PolicyFile, train.RewardCurveFile, train.WarmStartFile, train.SelectionFile, train.PolicyLastFile}

// lockFile is in a run directory while a training writes it: the process id and
// host name of that training, a line each.
const lockFile = "train.lock"

// heldRuns are the run directories this process holds, by absolute path with
// symbolic links resolved: a lock of this process id held by no training of this
// process was left by an earlier process that had the same id (a container's).
var heldRuns sync.Map

// lockRun takes the run directory dir for this training, so that two trainings
// never write one directory at once: it creates dir/train.lock (O_EXCL) holding
// this process's id and host, or refuses naming the training that holds it. A lock
// left by a process that is no longer running (a training killed) is taken over,
// saying so on stderr. The returned function removes the lock.
func lockRun(dir string, stderr io.Writer) (unlock func(), err error) {
	path := filepath.Join(dir, lockFile)
	abs, err := filepath.EvalSymlinks(dir)
	if err == nil {
		abs, err = filepath.Abs(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", dir, err)
	}
	host, _ := os.Hostname()
	mine := fmt.Sprintf("%d\n%s\n", os.Getpid(), host)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = f.WriteString(mine)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return nil, fmt.Errorf("--out %s: %w", dir, err)
			}
			heldRuns.Store(abs, true)
			return func() {
				heldRuns.Delete(abs)
				if b, err := os.ReadFile(path); err == nil && string(b) == mine {
					os.Remove(path)
				}
			}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("--out %s: %w", dir, err)
		}
		held, pid, by := readLock(path)
		_, ours := heldRuns.Load(abs)
		switch {
		case pid == 0:
			return nil, fmt.Errorf("--out %s: %s does not name the training holding the directory: if none is running, remove it", dir, path)
		case by != host:
			return nil, fmt.Errorf("--out %s is in use by a training on host %s (process %d): wait for it to end or choose another --out; if it no longer runs, remove %s", dir, by, pid, path)
		case processRunning(pid) && (pid != os.Getpid() || ours):
			return nil, fmt.Errorf("--out %s is in use by another training (process %d): wait for it to end or choose another --out", dir, pid)
		}
		// A stale lock. Only the holder of path.takeover removes it, and only
		// while it still holds what was read, so that two trainings taking it over
		// at once do not both go on.
		guard := path + ".takeover"
		gf, err := os.OpenFile(guard, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--out %s: another training is taking over its lock (%s exists; if none is, remove it)", dir, guard)
		}
		gf.Close()
		if b, rerr := os.ReadFile(path); rerr == nil && string(b) == held {
			if err = os.Remove(path); err == nil {
				fmt.Fprintf(stderr, "train: %s was left by process %d, which is no longer running; taking the directory over\n", path, pid)
			}
		}
		os.Remove(guard)
		if err != nil {
			return nil, fmt.Errorf("--out %s: %w", dir, err)
		}
	}
}

// readLock reads a lock file: its text, and the process id (0 when the file
// names none) and host in it. A lock being written is waited for a moment.
func readLock(path string) (text string, pid int, host string) {
	for try := 0; try < 20; try++ {
		b, err := os.ReadFile(path)
		if err == nil {
			text = string(b)
			if lines := strings.Split(text, "\n"); len(lines) == 3 && lines[2] == "" {
				if n, err := strconv.Atoi(lines[0]); err == nil && n > 0 {
					return text, n, lines[1]
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return text, 0, ""
}

// processRunning reports whether process pid exists (signal 0 probes it, sending
// nothing).
func processRunning(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
