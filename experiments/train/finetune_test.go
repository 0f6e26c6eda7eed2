package train

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/env"
)

// TestFineTuneSwitchesAndResumes: a run on the fluid model with a fine-tune over the
// last half of its budget logs exactly what the same run without it logs until the
// switch, and other figures after it (the episodes started then run request by
// request); killed after the switch, with episodes under way on the request-level
// simulator, and resumed, it ends with the same policy bytes.
func TestFineTuneSwitchesAndResumes(t *testing.T) {
	for _, alg := range []string{PPO, DQN} {
		t.Run(alg, func(t *testing.T) {
			fluid := tinyConfig(alg)
			fluid.Env.Fidelity = env.FidelityFluid
			tuned := fluid
			tuned.FineTune = &FineTuneConfig{Steps: fluid.Steps / 2}
			switchAt := fluid.Steps - tuned.FineTune.Steps

			dirF, dirT := t.TempDir(), t.TempDir()
			pF, err := Run(fluid, dirF, nil)
			if err != nil {
				t.Fatal(err)
			}
			pT, err := Run(tuned, dirT, nil)
			if err != nil {
				t.Fatal(err)
			}
			if pF.Checksum == pT.Checksum {
				t.Fatal("the fine-tune changed nothing: same policy as on the fluid model alone")
			}
			rowsF := strings.Split(withoutSPS(readFile(t, filepath.Join(dirF, ProgressFile))), "\n")
			rowsT := strings.Split(withoutSPS(readFile(t, filepath.Join(dirT, ProgressFile))), "\n")
			steps := progressColumn(t, filepath.Join(dirT, ProgressFile), "step")
			if len(rowsF) != len(rowsT) || len(steps) != len(rowsT)-1 {
				t.Fatalf("progress.csv: %d and %d lines, %d steps", len(rowsF), len(rowsT), len(steps))
			}
			same, differ := 0, 0
			for i, s := range steps {
				// A row's episodes ended by its step; those of the rows up to one
				// episode past the switch may all have started before it.
				switch {
				case int(s) <= switchAt:
					if rowsF[i+1] != rowsT[i+1] {
						t.Fatalf("step %v, before the switch at %d: rows differ\n%s\n%s", s, switchAt, rowsF[i+1], rowsT[i+1])
					}
					same++
				case rowsF[i+1] != rowsT[i+1]:
					differ++
				}
			}
			if same == 0 || differ == 0 {
				t.Fatalf("%d rows equal before the switch, %d differ after: want both", same, differ)
			}

			// Killed past the last checkpoint after the switch, then resumed.
			cfgB := tuned
			cfgB.CheckpointEvery = 1000
			dirB := t.TempDir()
			killAt := 1200
			stopped := runKilled(t, cfgB, dirB, killAt)
			ck, err := readCheckpoint(filepath.Join(dirB, CheckpointFile))
			if err != nil || ck == nil || ck.GlobalStep <= switchAt || ck.GlobalStep >= stopped {
				t.Fatalf("checkpoint %+v (err %v), killed at %d: want one after the switch at %d, before the kill", ck, err, stopped, switchAt)
			}
			if _, err := Run(cfgB, dirB, nil); err != nil {
				t.Fatal(err)
			}
			if a, b := readFile(t, filepath.Join(dirT, PolicyFile)), readFile(t, filepath.Join(dirB, PolicyFile)); !bytes.Equal(a, b) {
				t.Fatalf("killed at step %d (checkpoint %d) and resumed: policy.json differs from the uninterrupted run", stopped, ck.GlobalStep)
			}
		})
	}
}

// TestFineTuneConfigErrors: the fine-tune's steps must fall within the budget, and
// the run must be on the fluid model.
func TestFineTuneConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, fid string
		steps     int
		want      string
	}{
		{"zero steps", env.FidelityFluid, 0, "fine_tune.steps"},
		{"beyond the budget", env.FidelityFluid, 1537, "want 1 to steps (1536)"},
		{"already request", env.FidelityRequest, 100, "set env.fidelity: fluid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tinyConfig(DQN)
			c.Env.Fidelity = tc.fid
			c.FineTune = &FineTuneConfig{Steps: tc.steps}
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	c := tinyConfig(DQN)
	c.Env.Fidelity = env.FidelityFluid
	c.FineTune = &FineTuneConfig{Steps: c.Steps}
	if err := c.Validate(); err != nil {
		t.Fatalf("a fine-tune over the whole budget: %v", err)
	}
}

// TestProgressEndsAtTheLastStep: a run's progress output (not a terminal) ends with
// its last step, though DQN's rows come at episode ends and its last step ends none.
func TestProgressEndsAtTheLastStep(t *testing.T) {
	cfg := tinyConfig(DQN)
	cfg.Steps = 1500 // not a whole number of 120-step episodes
	var out strings.Builder
	if _, err := Run(cfg, t.TempDir(), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "step 1500/1500 (done)") {
		t.Fatalf("progress output ends %q, want the last step:\n%s", last, out.String())
	}
	if strings.Count(out.String(), "1500/1500") != 1 {
		t.Fatalf("the last step twice:\n%s", out.String())
	}
}
