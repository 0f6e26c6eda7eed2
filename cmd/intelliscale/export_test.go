package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents/policy"
)

// Several --run give one ensemble policy file, which sim runs; runs that cannot
// form one, and an ensemble without --out, are refused, naming the run, and
// write nothing.
func TestExportEnsemble(t *testing.T) {
	dir := t.TempDir()
	const target = "env: {action_mode: target, actions: [40, 60, 80]}\n"
	a, b, c := trainTiny(t, dir, "a", target+"seed: 1\n"), trainTiny(t, dir, "b", target+"seed: 2\n"), trainTiny(t, dir, "c", target+"seed: 3\n")
	ens := filepath.Join(dir, "ens.json")
	code, out, stderr := runCmd("export", "--run", a, "--run", b, "--run", c, "--out", ens)
	if code != 0 || !strings.Contains(out, "ensemble of 3 networks (training seeds 1, 2, 3): each decision is the greedy action asking for the most replicas") {
		t.Fatalf("export: exit %d: %s%s", code, out, stderr)
	}
	p, err := policy.Load(ens)
	if err != nil || len(p.Members) != 2 || p.Vote != policy.VoteCautious {
		t.Fatalf("ensemble file: %v", err)
	}
	if strings.Contains(out, "its networks trained") {
		t.Errorf("networks of equal training said to differ: %s", out)
	}
	if code, out, _ := runCmd("export", "--check", ens); code != 0 || !strings.Contains(out, "ensemble of 3 networks") {
		t.Fatalf("export --check: exit %d: %s", code, out)
	}
	if code, _, stderr := runCmd("sim", "--builtin", "step", "--length", "6h", "--timeline", "", "--policy-file", ens); code != 0 {
		t.Fatalf("sim with the ensemble: exit %d: %s", code, stderr)
	}
	long := trainTiny(t, dir, "long", target+"seed: 4\nsteps: 1024\n")
	mixed := filepath.Join(dir, "mixed.json")
	if code, out, stderr := runCmd("export", "--run", a, "--run", long, "--out", mixed); code != 0 || !strings.Contains(out, "its networks trained 512 to 1024 steps") {
		t.Errorf("networks of 512 and 1024 steps: exit %d: %s%s", code, out, stderr)
	}
	median := filepath.Join(dir, "median.json")
	code, out, stderr = runCmd("export", "--run", a, "--run", b, "--vote", "median", "--out", median)
	if code != 0 || !strings.Contains(out, "the median of their greedy actions") {
		t.Fatalf("export --vote median: exit %d: %s%s", code, out, stderr)
	}
	if p, err := policy.Load(median); err != nil || p.Vote != policy.VoteMedian {
		t.Fatalf("median ensemble file: %v", err)
	}

	bad := filepath.Join(dir, "bad.json")
	delta := trainTiny(t, dir, "delta", "")
	code, _, stderr = runCmd("export", "--run", a, "--run", delta, "--out", bad)
	if code == 0 || !strings.Contains(stderr, "--run "+delta+": its actions") || !strings.Contains(stderr, "the first --run is "+a) {
		t.Errorf("an ensemble of a target and a delta run: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCmd("export", "--run", a, "--run", b)
	if code == 0 || !strings.Contains(stderr, "--out: required with several --run") {
		t.Errorf("an ensemble without --out: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCmd("export", "--run", a, "--run", b, "--out", filepath.Join(b, "checkpoint.bin"))
	if code == 0 || !strings.Contains(stderr, "checkpoint") {
		t.Errorf("--out over the second run's checkpoint: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCmd("export", "--run", a, "--vote", "cautious", "--out", bad)
	if code == 0 || !strings.Contains(stderr, "--vote: only with several --run") {
		t.Errorf("--vote with one run: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCmd("export", "--check", ens, "--vote", "median")
	if code == 0 || !strings.Contains(stderr, "--vote: only with several --run") {
		t.Errorf("--vote with --check: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCmd("export", "--run", a, "--run", b, "--vote", "loud", "--out", bad)
	if code == 0 || !strings.Contains(stderr, `vote "loud"`) {
		t.Errorf("--vote loud: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a refused export wrote %s (%v)", bad, err)
	}
}

// trainTiny trains PPO on the built-in step trace, with extra lines of training
// config (512 steps unless they give steps), into dir/name, and returns that run
// directory.
func trainTiny(t *testing.T, dir, name, extra string) string {
	t.Helper()
	conf := filepath.Join(dir, name+".yaml")
	if !strings.Contains(extra, "steps:") {
		extra += "steps: 512\n"
	}
	if err := os.WriteFile(conf, []byte("algorithm: ppo\ntraces:\n  - builtin: step\n"+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if code, _, stderr := runCmd("train", "--config", conf, "--out", out, "--quiet"); code != 0 {
		t.Fatalf("train %s: exit %d: %s", name, code, stderr)
	}
	return out
}

// exportTiny is trainTiny's run exported to dir/name.json, whose path it returns.
func exportTiny(t *testing.T, dir, name, extra string) string {
	t.Helper()
	run := trainTiny(t, dir, name, extra)
	file := filepath.Join(dir, name+".json")
	if code, _, stderr := runCmd("export", "--run", run, "--out", file); code != 0 {
		t.Fatalf("export %s: exit %d: %s", name, code, stderr)
	}
	return file
}
