package train

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/agents/ppo"
)

// runKilled trains cfg in dir with checkpoints, cancelling the run once it passes
// killAt steps; it returns the step the run stopped at.
func runKilled(t *testing.T, cfg Config, dir string, killAt int) int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := 0
	_, err := run(ctx, cfg, dir, runOptions{afterStep: func(step int) {
		if step >= killAt && stopped == 0 {
			stopped = step
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: error %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, PolicyFile)); err == nil {
		t.Fatal("a killed run wrote policy.json")
	}
	return stopped
}

// TestResumeGivesIdenticalPolicy: an uninterrupted run and a run killed at a seeded
// random step between checkpoints, then resumed (with parallel environments for
// PPO), end with the same policy.json bytes and the same progress.csv apart from
// the wall-clock column.
// The ppo-lagrangian case also checks that the multiplier moved, so that resuming it
// is exercised.
//
// The -selection cases select the checkpoint on the validation windows (a candidate
// every 400 steps, so that candidates fall between checkpoints too): policy.json,
// policy-last.json and selection.csv must come out the same.
func TestResumeGivesIdenticalPolicy(t *testing.T) {
	for _, name := range []string{PPO, DQN, "ppo-lagrangian", "ppo-selection", "dqn-selection"} {
		t.Run(name, func(t *testing.T) {
			alg, sel := strings.CutSuffix(name, "-selection")
			cfg := tinyConfig(alg)
			if name == "ppo-lagrangian" {
				alg, cfg = PPO, tinyLagrangianConfig()
			}
			if sel {
				cfg.Selection = SelectionConfig{Every: 400}
			}
			dirA := t.TempDir()
			pA, err := Run(cfg, dirA, nil)
			if err != nil {
				t.Fatal(err)
			}
			polA := readFile(t, filepath.Join(dirA, PolicyFile))

			cfgB := cfg
			cfgB.CheckpointEvery = 500
			if alg == PPO {
				setPPO(&cfgB, func(p *ppo.Config) { p.ParallelEnvs = true })
			}
			dirB := t.TempDir()
			rng := rand.New(rand.NewPCG(uint64(len(name)), 7))
			// A seeded kill point past the first checkpoint, before the last update,
			// and not at a checkpoint (where resuming would prove less).
			step := 1
			if alg == PPO {
				step = ppoOf(cfg).BatchSize() // PPO stops at update boundaries
			}
			isCheckpoint := func(s int) bool { return nextCheckpoint(s-step, cfgB.CheckpointEvery) <= s }
			killAt := 0
			for killAt == 0 || isCheckpoint((killAt+step-1)/step*step) {
				killAt = 501 + rng.IntN(cfg.Steps-step-501)
			}
			stopped := runKilled(t, cfgB, dirB, killAt)
			ck, err := readCheckpoint(filepath.Join(dirB, CheckpointFile))
			if err != nil || ck == nil {
				t.Fatalf("no checkpoint after the kill: %v", err)
			}
			if ck.GlobalStep >= stopped || ck.GlobalStep < 500 {
				t.Fatalf("checkpoint at step %d, killed at %d: the kill should fall after a checkpoint", ck.GlobalStep, stopped)
			}
			pB, err := Run(cfgB, dirB, nil)
			if err != nil {
				t.Fatal(err)
			}
			polB := readFile(t, filepath.Join(dirB, PolicyFile))
			if !bytes.Equal(polA, polB) {
				t.Fatalf("killed at step %d (checkpoint %d) and resumed: policy.json differs from the uninterrupted run", stopped, ck.GlobalStep)
			}
			if a, b := withoutSPS(readFile(t, filepath.Join(dirA, ProgressFile))), withoutSPS(readFile(t, filepath.Join(dirB, ProgressFile))); a != b {
				t.Fatalf("progress.csv differs after resume:\n%s\n---\n%s", a, b)
			}
			if sel {
				for _, f := range []string{PolicyLastFile, SelectionFile} {
					if a, b := readFile(t, filepath.Join(dirA, f)), readFile(t, filepath.Join(dirB, f)); !bytes.Equal(a, b) {
						t.Fatalf("%s differs after resume:\n%s\n---\n%s", f, a, b)
					}
				}
				// One candidate per multiple of 400 reached, plus the last step.
				if rows := strings.Count(string(readFile(t, filepath.Join(dirA, SelectionFile))), "\n") - 1; rows != 4 {
					t.Fatalf("selection.csv: %d rows, want 4 candidates on 1 window", rows)
				}
			}
			if cfg.Lagrangian.Enabled {
				lambdas := progressColumn(t, filepath.Join(dirB, ProgressFile), "lagrange_multiplier")
				if len(lambdas) != cfg.Steps/ppoOf(cfg).BatchSize() || lambdas[0] == lambdas[len(lambdas)-1] {
					t.Fatalf("lagrange_multiplier column %v: want one value per update, moving", lambdas)
				}
			}
			// With selection the policy is the chosen candidate's, whose step may be
			// any candidate's; without it, the last step's.
			if pB.Training.Steps != pA.Training.Steps || pB.Training.Episodes != pA.Training.Episodes ||
				!sel && pB.Training.Steps < cfg.Steps-step || pB.Training.Episodes < 1 {
				t.Fatalf("training metadata %+v after resume, %+v uninterrupted", pB.Training, pA.Training)
			}
			// A run whose checkpoint is complete exports the same policy again.
			if _, err := Run(cfgB, dirB, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(polA, readFile(t, filepath.Join(dirB, PolicyFile))) {
				t.Fatal("re-running a finished run changed policy.json")
			}
		})
	}
}

// TestDifferentSeedDifferentPolicy guards the identity test against a policy that
// ignores training: another seed must give other weights.
func TestDifferentSeedDifferentPolicy(t *testing.T) {
	a, err := Run(tinyConfig(PPO), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := tinyConfig(PPO)
	c.Seed = 2
	b, err := Run(c, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Checksum == b.Checksum {
		t.Fatal("seeds 1 and 2 gave the same policy")
	}
}

func TestResumeRefusesOtherConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig(DQN)
	cfg.CheckpointEvery = 300
	runKilled(t, cfg, dir, 700)
	cfg.Seed = 5
	_, err := Run(cfg, dir, nil)
	if err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Fatalf("error %v: want a refusal to resume another configuration", err)
	}
}

func TestRunWritesArtifacts(t *testing.T) {
	dir := t.TempDir()
	var bar bytes.Buffer
	p, err := Run(tinyConfig(PPO), dir, &bar)
	if err != nil {
		t.Fatal(err)
	}
	png := readFile(t, filepath.Join(dir, RewardCurveFile))
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("reward_curve.png is not a PNG")
	}
	lines := strings.Split(strings.TrimSpace(string(readFile(t, filepath.Join(dir, ProgressFile)))), "\n")
	// The common columns, then PPO's own, then the clock.
	progressColumns := []string{"step", "episode_return", "episode_length", "policy_loss", "value_loss", "entropy",
		"approx_kl", "clip_fraction", "explained_variance", "learning_rate", "steps_per_second"}
	if lines[0] != strings.Join(progressColumns, ",") {
		t.Fatalf("header %q", lines[0])
	}
	// One row per update: 1536 / (2*128) = 6, steps 256, 512, ...
	if len(lines) != 7 || !strings.HasPrefix(lines[1], "256,") || !strings.HasPrefix(lines[6], "1536,") {
		t.Fatalf("progress.csv rows: %q", lines)
	}
	for _, l := range lines[1:] {
		if n := strings.Count(l, ","); n != len(progressColumns)-1 {
			t.Fatalf("row %q has %d fields", l, n+1)
		}
	}
	// Not a terminal: one line per tenth at most, no carriage returns.
	if strings.Contains(bar.String(), "\r") || strings.Count(bar.String(), "\n") > 10 || !strings.Contains(bar.String(), "1536/1536") {
		t.Fatalf("progress output %q", bar.String())
	}
	q, err := policy.Load(filepath.Join(dir, PolicyFile))
	if err != nil {
		t.Fatal(err)
	}
	if q.Checksum != p.Checksum || q.Normaliser == nil || q.Algorithm != PPO {
		t.Fatalf("loaded policy %q/%v/%s, returned %q", q.Checksum, q.Normaliser != nil, q.Algorithm, p.Checksum)
	}
	cy := readFile(t, filepath.Join(dir, ConfigFile))
	reread, err := DecodeConfig(bytes.NewReader(cy), "config.yaml")
	if err != nil {
		t.Fatalf("config.yaml does not load back: %v", err)
	}
	if reread.Steps != 1536 || ppoOf(reread).NumEnvs != 2 || reread.Env.EpisodeLength != tinyConfig(PPO).Env.EpisodeLength {
		t.Fatalf("config.yaml lost settings: %+v", reread)
	}
}

func TestExportFromCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig(DQN)
	cfg.CheckpointEvery = 400
	if _, err := Export(dir); err == nil {
		t.Fatal("Export of an empty directory succeeded")
	}
	runKilled(t, cfg, dir, 1000)
	p, err := Export(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Training.Steps != 800 || p.Algorithm != DQN {
		t.Fatalf("exported policy at step %d (%s), want the checkpoint's 800", p.Training.Steps, p.Algorithm)
	}
	full, err := Run(cfg, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Export(dir)
	if err != nil {
		t.Fatal(err)
	}
	if q.Checksum != full.Checksum || q.Checksum == p.Checksum {
		t.Fatalf("export after the end %s, run's policy %s, mid-run %s", q.Checksum, full.Checksum, p.Checksum)
	}
}
