package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

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
it and ends with the same policy.json as an uninterrupted run.`

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
	if err := g.Dir("--out", dir, train.ConfigFile, train.ProgressFile, train.CheckpointFile,
		train.PolicyFile, train.RewardCurveFile, buildinfo.File); err != nil {
		return err
	}
	switch has := train.HasCheckpoint(dir); {
	case has && !*resume:
		return fmt.Errorf("%s holds a checkpoint: pass --resume to continue it, or choose another --out", dir)
	case !has && *resume:
		return fmt.Errorf("--resume: %s holds no checkpoint", dir)
	}
	var progress io.Writer = stderr
	if *quiet || os.Getenv("CI") == "true" {
		progress = nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := buildinfo.Record(dir); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := train.RunContext(ctx, cfg, dir, progress)
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
	// PPO trains whole rollouts, so a budget that is not a multiple of one ends
	// short of it; say so rather than leave the count to look like a bug.
	short := ""
	if n := cfg.Steps; p.Training.Steps < n {
		short = fmt.Sprintf(", of the %d asked: whole updates only", n)
	}
	fmt.Fprintf(stdout, "trained %s for %d steps%s (%d episodes): %s\npolicy %s (%s)\n",
		p.Algorithm, p.Training.Steps, short, p.Training.Episodes, dir, filepath.Join(dir, train.PolicyFile), p.Checksum)
	return nil
}
