package train

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents/dqn"
)

// tinyWarmConfig is tinyConfig(PPO) warm-started from the oracle.
func tinyWarmConfig() Config { return tinyWarmConfigOf(PPO) }

// tinyWarmConfigOf is tinyConfig(alg) warm-started from the oracle.
func tinyWarmConfigOf(alg string) Config {
	c := tinyConfig(alg)
	c.Env.ActionMode, c.Env.Actions = "target", []int{40, 50, 60, 70, 80, 90}
	c.Env.Shield.MaxDownPercent = 10
	var params yaml.Node
	if err := yaml.Unmarshal([]byte("headroom: 0.1"), &params); err != nil {
		panic(err)
	}
	c.WarmStart = &WarmStartConfig{Expert: "oracle", Params: *params.Content[0], Steps: 3000, Epochs: 20, LearningRate: 3e-3, MinibatchSize: 64}
	return c
}

// warmStartRows parses warm_start.csv: its rows by round, each as the columns' values.
func warmStartRows(t *testing.T, dir string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(readFile(t, filepath.Join(dir, WarmStartFile)))), "\n")
	if lines[0] != "round,epoch,steps,loss,accuracy,held_out_accuracy,value_loss" {
		t.Fatalf("%s header %q", WarmStartFile, lines[0])
	}
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Split(l, ","))
	}
	return rows
}

// TestWarmStartClonesTheOracle: after the warm start the greedy policy agrees with
// the oracle on most held-out states (episodes it was not fitted on), where the
// untrained network does not.
func TestWarmStartClonesTheOracle(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(tinyWarmConfig(), dir, nil); err != nil {
		t.Fatal(err)
	}
	rows := warmStartRows(t, dir)
	if len(rows) != 21 {
		t.Fatalf("%d rows in %s, want epochs 0 to 20", len(rows), WarmStartFile)
	}
	first, last := parseFloat(t, rows[0][5]), parseFloat(t, rows[len(rows)-1][5])
	t.Logf("held-out agreement with the oracle: %.3f untrained, %.3f cloned", first, last)
	if first > 0.5 || last < 0.8 {
		t.Fatalf("held-out agreement %.3f untrained, %.3f cloned: want <= 0.5 and >= 0.8", first, last)
	}
	if v0, v1 := parseFloat(t, rows[0][6]), parseFloat(t, rows[len(rows)-1][6]); !(v1 < v0/10) {
		t.Fatalf("value loss %v -> %v: the value head did not learn the oracle's returns", v0, v1)
	}
}

// TestWarmStartDeterministicAndResumes: the same configuration gives the same
// bytes; a run killed during the warm start does it again, one killed after it
// resumes from the checkpoint written at once (step 0) or from a later one; all
// end with the uninterrupted run's policy.json, warm_start.csv and progress.csv.
func TestWarmStartDeterministicAndResumes(t *testing.T) {
	cfg := tinyWarmConfig()
	cfg.WarmStart.DAggerRounds, cfg.WarmStart.DAggerSteps = 1, 1000
	cfg.CheckpointEvery = 500
	dirA, want := finishedRun(t, cfg)
	if rows := warmStartRows(t, dirA); rows[len(rows)-1][0] != "1" {
		t.Fatalf("last row of round %s, want the DAgger round 1", rows[len(rows)-1][0])
	}
	// With checkpoint selection as well (its state is in the checkpoint written after
	// the warm start).
	sc := cfg
	sc.Selection = SelectionConfig{Every: 512, Fidelity: "fluid"}
	dirS := t.TempDir()
	if _, err := Run(sc, dirS, nil); err != nil {
		t.Fatal(err)
	}
	selected := runFiles(t, dirS)
	for _, c := range []struct {
		name               string
		killExpert, killRL int
		checkpointAt       int // -1: none
	}{
		{"again", 0, 0, 0},
		{"killed in the warm start", 1000, 0, -1},
		{"killed in the DAgger round", 3500, 0, -1},
		{"killed at the first update", 0, 1, 0},
		{"killed after a checkpoint", 0, 700, 512},
		{"with selection, killed at the first update", 0, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg, want := cfg, want
			if strings.HasPrefix(c.name, "with selection") {
				cfg.Selection = SelectionConfig{Every: 512, Fidelity: "fluid"}
				want = selected
			}
			if c.killExpert > 0 || c.killRL > 0 {
				ck := killDuring(t, cfg, dir, c.killExpert, c.killRL)
				switch {
				case c.checkpointAt < 0 && ck != nil:
					t.Fatalf("a checkpoint at step %d during the warm start", ck.GlobalStep)
				case c.checkpointAt >= 0 && (ck == nil || ck.GlobalStep != c.checkpointAt):
					t.Fatalf("checkpoint %+v, want one at step %d", ck, c.checkpointAt)
				}
				if _, err := os.Stat(filepath.Join(dir, WarmStartFile)); (err == nil) != (c.checkpointAt >= 0) {
					t.Fatalf("%s present: %v, want %v", WarmStartFile, err == nil, c.checkpointAt >= 0)
				}
			}
			resumeMatches(t, cfg, dir, want)
		})
	}
	// Without the warm start the same seed trains another policy.
	dir := coldRunDiffers(t, cfg, want)
	if _, err := os.Stat(filepath.Join(dir, WarmStartFile)); err == nil {
		t.Fatalf("%s written without a warm start", WarmStartFile)
	}
}

func TestWarmStartConfigErrors(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"dqn without an expert", "algorithm: dqn\nwarm_start: {steps: 100}\n", "c.yaml line 2: warm_start.expert: required: a rule policy"},
		{"no expert", "algorithm: ppo\nwarm_start: {steps: 100}\n", "c.yaml line 2: warm_start.expert: required: a rule policy"},
		{"unknown expert", "algorithm: ppo\nwarm_start:\n  expert: ppo\n", "c.yaml line 3: warm_start.expert: \"ppo\": want a rule policy"},
		{"bad epochs", "algorithm: ppo\nwarm_start:\n  expert: hpa\n  epochs: -2\n", "c.yaml line 4: warm_start.epochs: -2"},
		{"bad learning rate", "algorithm: ppo\nwarm_start:\n  expert: hpa\n  learning_rate: 2\n", "c.yaml line 4: warm_start.learning_rate: 2: must be in (0, 1]"},
		{"unknown key", "algorithm: ppo\nwarm_start:\n  expert: hpa\n  epoch: 3\n", "c.yaml line 4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeConfig(strings.NewReader(c.yaml), "c.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
	// The expert's parameters are checked once the traces are known.
	cfg := tinyWarmConfig()
	if err := yaml.Unmarshal([]byte("headroom: -1"), &cfg.WarmStart.Params); err != nil {
		t.Fatal(err)
	}
	cfg.WarmStart.Params = *cfg.WarmStart.Params.Content[0]
	_, err := Run(cfg, t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), "warm_start.params.headroom: -1") {
		t.Fatalf("error %v, want warm_start.params.headroom", err)
	}
	// DQN accepts the section, its defaults filled.
	dc, err := DecodeConfig(strings.NewReader("algorithm: dqn\nwarm_start: {expert: oracle}\n"), "c.yaml")
	if err != nil || dc.WarmStart == nil || dc.WarmStart.Steps != 20_000 {
		t.Fatalf("dqn with a warm start: %v (%+v)", err, dc.WarmStart)
	}
	// Absent, nothing of it is written or hashed.
	plain, err := DecodeConfig(strings.NewReader("algorithm: ppo\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y, err := plain.resolvedYAML()
	if err != nil || bytes.Contains(y, []byte("warm_start")) {
		t.Fatalf("resolved configuration without a warm start mentions it (%v):\n%s", err, y)
	}
}

// TestWarmStartDQN: DQN's warm start (DQfD's margin and TD losses, the replay buffer
// pre-filled, a DAgger round) raises the greedy policy's held-out agreement with the
// oracle; a run killed during the warm start, at the checkpoint written after it or
// later ends with the uninterrupted run's files; without the warm start the same seed
// trains another policy.
func TestWarmStartDQN(t *testing.T) {
	cfg := tinyWarmConfigOf(DQN)
	// train-dqn.yaml's width: a 16-16 clone agrees with the oracle on 0.58 of the
	// held-out steps.
	setDQN(&cfg, func(d *dqn.Config) { d.Hidden = []int{64, 64} })
	cfg.WarmStart.DAggerRounds, cfg.WarmStart.DAggerSteps = 1, 1000
	cfg.CheckpointEvery = 500
	dirA, want := finishedRun(t, cfg)
	rows := warmStartRows(t, dirA)
	if len(rows) != 42 || rows[20][0] != "0" || rows[41][0] != "1" {
		t.Fatalf("%d rows in %s, want epochs 0 to 20 of rounds 0 and 1", len(rows), WarmStartFile)
	}
	first, last := rows[0], rows[20]
	h0, h1 := parseFloat(t, first[5]), parseFloat(t, last[5])
	m0, m1 := parseFloat(t, first[3]), parseFloat(t, last[3])
	t.Logf("held-out agreement with the oracle %.3f -> %.3f, margin loss %.3f -> %.3f, TD loss %s -> %s", h0, h1, m0, m1, first[6], last[6])
	if h0 > 0.5 || h1 < 0.7 || !(m1 < m0/2) {
		t.Fatalf("held-out agreement %.3f untrained, %.3f cloned, margin loss %v -> %v: want <= 0.5, >= 0.7 and halved", h0, h1, m0, m1)
	}
	if last[6] == "" {
		t.Fatal("no TD loss on the expert's transitions")
	}
	for _, c := range []struct {
		name               string
		killExpert, killRL int
		checkpointAt       int // -1: none
	}{
		{"killed in the warm start", 1000, 0, -1},
		{"killed in the DAgger round", 3500, 0, -1},
		{"killed at the first step", 0, 1, 0},
		{"killed after a checkpoint", 0, 700, 500},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ck := killDuring(t, cfg, dir, c.killExpert, c.killRL)
			if (c.checkpointAt < 0) != (ck == nil) || (ck != nil && ck.GlobalStep != c.checkpointAt) {
				t.Fatalf("checkpoint %+v after the kill, want one at step %d", ck, c.checkpointAt)
			}
			resumeMatches(t, cfg, dir, want)
		})
	}
	coldRunDiffers(t, cfg, want)
}

func parseFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// killDuring runs cfg in dir and cancels it once the warm start's expert has taken
// killExpert steps (when positive) or reinforcement learning killRL steps; it returns
// the checkpoint left behind (nil for none).
func killDuring(t *testing.T, cfg Config, dir string, killExpert, killRL int) *checkpoint {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt := runOptions{}
	if killExpert > 0 {
		opt.warmStartStep = func(step int) {
			if step >= killExpert {
				cancel()
			}
		}
	} else {
		opt.afterStep = func(step int) {
			if step >= killRL {
				cancel()
			}
		}
	}
	if _, err := run(ctx, cfg, dir, opt); !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: %v, want context.Canceled", err)
	}
	ck, err := readCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// resumeMatches runs cfg in dir to the end and compares its policy, warm-start report
// and progress with want, the uninterrupted run's.
func resumeMatches(t *testing.T, cfg Config, dir string, want [3]string) {
	t.Helper()
	if _, err := Run(cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	if got := runFiles(t, dir); got != want {
		for i, name := range []string{PolicyFile, WarmStartFile, ProgressFile} {
			if got[i] != want[i] {
				t.Errorf("%s differs from the uninterrupted run's", name)
			}
		}
	}
}

// runFiles reads a finished run's policy, warm-start report and progress (its speed
// column dropped).
func runFiles(t *testing.T, dir string) [3]string {
	t.Helper()
	return [3]string{string(readFile(t, filepath.Join(dir, PolicyFile))), string(readFile(t, filepath.Join(dir, WarmStartFile))),
		withoutSPS(readFile(t, filepath.Join(dir, ProgressFile)))}
}

// coldRunDiffers trains cfg without its warm start and fails if the policy is the
// warm-started one (want's); it returns the run's directory.
func coldRunDiffers(t *testing.T, cfg Config, want [3]string) string {
	t.Helper()
	plain := cfg
	plain.WarmStart = nil
	dir := t.TempDir()
	if _, err := Run(plain, dir, nil); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(readFile(t, filepath.Join(dir, PolicyFile)), []byte(want[0])) {
		t.Fatal("the warm start changed nothing")
	}
	return dir
}

// finishedRun trains cfg uninterrupted in a fresh directory and returns it with
// runFiles of the run.
func finishedRun(t *testing.T, cfg Config) (string, [3]string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Run(cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	return dir, runFiles(t, dir)
}

// TestWarmStartInterruptedInTheFit: a run cancelled during a warm start's fit stops
// at the next minibatch, leaves no checkpoint and no warm_start.csv, and run again
// ends with the uninterrupted run's bytes. The fit is stopped at its first
// minibatch, in the middle of each round's fit, and just too late to stop it at
// each round's end, when only the environments' reset that ends it (PPO) sees the
// interruption: that reset leaves the copies in another state, which must not be
// checkpointed.
func TestWarmStartInterruptedInTheFit(t *testing.T) {
	for _, alg := range []string{PPO, DQN} {
		t.Run(alg, func(t *testing.T) {
			cfg := tinyWarmConfigOf(alg)
			cfg.WarmStart.DAggerRounds, cfg.WarmStart.DAggerSteps = 1, 1000
			cfg.WarmStart.Epochs = 5
			cfg.CheckpointEvery = 500
			// The uninterrupted run, counting the fits' polls: round 0's end at the
			// DAgger round's first expert step.
			dirA := t.TempDir()
			polls, round0 := 0, 0
			_, err := run(context.Background(), cfg, dirA, runOptions{
				warmStartFit: func(n int) { polls = n },
				warmStartStep: func(step int) {
					if step > cfg.WarmStart.Steps && round0 == 0 {
						round0 = polls
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if round0 < 4 || polls < round0+4 {
				t.Fatalf("%d polls, %d in round 0: want fits of several minibatches in both rounds", polls, round0)
			}
			want := runFiles(t, dirA)
			for _, at := range []int{1, round0 / 2, round0, (round0 + polls) / 2, polls} {
				t.Run(strconv.Itoa(at), func(t *testing.T) {
					dir := t.TempDir()
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					last := 0
					_, err := run(ctx, cfg, dir, runOptions{warmStartFit: func(n int) {
						last = n
						if n == at {
							cancel()
						}
					}})
					if !errors.Is(err, context.Canceled) {
						t.Fatalf("cancelled at poll %d of %d: error %v, want context.Canceled", at, polls, err)
					}
					if last > at+1 {
						t.Fatalf("cancelled at poll %d: the fit went on to poll %d", at, last)
					}
					for _, f := range []string{CheckpointFile, WarmStartFile} {
						if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
							t.Fatalf("cancelled at poll %d of %d: %s written", at, polls, f)
						}
					}
					resumeMatches(t, cfg, dir, want)
				})
			}
		})
	}
}
