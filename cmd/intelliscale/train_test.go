package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A training config names a recipe as an experiment's policy does: --help lists
// them, a run starts from one with the keys beside it winning (a traffic file
// taken from the config's directory), and an unknown name fails naming the file,
// line and field before anything is written.
func TestTrainRecipe(t *testing.T) {
	if code, _, errs := runCmd("train", "--help"); code != 0 || !strings.Contains(errs, "recipe") || !strings.Contains(errs, "ppo: benchmark, zero-shot") {
		t.Errorf("train --help: exit %d, no recipes listed:\n%s", code, errs)
	}

	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("cfg", 0o755); err != nil {
		t.Fatal(err)
	}
	rates := make([]float64, 6*60)
	for i := range rates {
		rates[i] = 20 + float64(i%60)
	}
	writeRateCSV(t, "cfg", "own.csv", rates)
	cfg := filepath.Join("cfg", "zs.yaml")
	if err := os.WriteFile(cfg, []byte(`algorithm: ppo
recipe: zero-shot
steps: 1024
traffic: {traces: [{file: own.csv}]}
warm_start: {steps: 256, epochs: 1}
ppo: {num_envs: 2, num_steps: 128}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd("train", "--quiet", "--config", cfg, "--out", "run")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, errs)
	}
	if !strings.Contains(out, "trained ppo for 1024 steps") {
		t.Errorf("stdout %q", out)
	}
	b, err := os.ReadFile(filepath.Join("run", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The recipe's settings (zero-shot's environment), the given ones beside them,
	// and the traffic in place of the built-in traces' train parts.
	for _, want := range []string{"# Training traces: own\n", "recipe: zero-shot\n", "fidelity: fluid\n", "action_mode: target\n", "steps: 1024\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.yaml lacks %q:\n%s", want, b)
		}
	}

	if err := os.WriteFile("bad.yaml", []byte("algorithm: dqn\nrecipe: zero-shot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCmd("train", "--quiet", "--config", "bad.yaml", "--out", "bad")
	if want := `bad.yaml line 2: recipe: "zero-shot": want one of benchmark for dqn`; code != 1 || !strings.Contains(errs, want) {
		t.Errorf("unknown recipe: exit %d, stderr %q; want %q", code, errs, want)
	}
	if _, err := os.Stat("bad"); !os.IsNotExist(err) {
		t.Errorf("run directory written for a bad config: %v", err)
	}
}

// A PPO budget that is not a whole number of rollouts trains fewer steps, and the
// last line says so; a whole number says nothing more.
func TestTrainSaysWhenItStopsShort(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		steps int
		want  string
	}{{1000, "trained ppo for 512 steps, of the 1000 asked: whole updates only ("}, {1024, "trained ppo for 1024 steps ("}} {
		conf := filepath.Join(dir, fmt.Sprintf("t%d.yaml", c.steps))
		if err := os.WriteFile(conf, []byte(fmt.Sprintf("algorithm: ppo\nsteps: %d\ntraces:\n  - builtin: step\n", c.steps)), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, stderr := runCmd("train", "--config", conf, "--out", filepath.Join(dir, fmt.Sprint(c.steps)), "--quiet")
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("steps %d: exit %d: %s%s, want %q", c.steps, code, out, stderr, c.want)
		}
	}
}
