package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// export --out replaces a policy file, saying which policy it held, and an empty
// file; any other file (another run's checkpoint, progress log, a trace, a YAML
// config) is refused, naming it, and kept; the run's own checkpoint still is too.
// --check of a checkpoint or of a file that is not JSON says what it is.
func TestExportOutReplacesOnlyPolicies(t *testing.T) {
	dir := t.TempDir()
	a := trainTiny(t, dir, "a", "")
	b := trainTiny(t, dir, "b", "seed: 2\n")
	trace := filepath.Join(dir, "trace.csv")
	conf := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(trace, []byte("seconds,rate\n0,10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(b, "checkpoint.bin"), "--out " + filepath.Join(b, "checkpoint.bin") + " is a training checkpoint: refusing to replace it with a policy file; choose another --out"},
		{filepath.Join(b, "progress.csv"), "--out " + filepath.Join(b, "progress.csv") + " is not a policy file (not JSON): refusing to replace it; choose another --out"},
		{trace, "--out " + trace + " is not a policy file (not JSON): refusing to replace it"},
		{conf, "--out " + conf + " is not a policy file (not JSON): refusing to replace it"},
		{filepath.Join(a, "checkpoint.bin"), "is the run's checkpoint (checkpoint.bin): refusing to overwrite it"},
	} {
		before, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runCmd("export", "--run", a, "--out", c.path); code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("--out %s: exit %d, stderr %q; want %q", c.path, code, stderr, c.want)
		}
		if after, _ := os.ReadFile(c.path); string(after) != string(before) {
			t.Errorf("--out %s: the file changed", c.path)
		}
	}

	// A policy file is replaced, saying which policy it held; the same policy is left.
	pol := filepath.Join(b, "policy.json")
	code, out, stderr := runCmd("export", "--run", a, "--out", pol)
	if want := "export: replaced " + pol + ", which held a ppo policy (training seed 2)\n"; code != 0 || stderr != want || !strings.HasPrefix(out, pol+": ") {
		t.Errorf("--out over a policy file: exit %d, stdout %q, stderr %q; want %q", code, out, stderr, want)
	}
	if code, _, stderr := runCmd("export", "--run", a, "--out", pol); code != 0 || !strings.Contains(stderr, pol+" already holds this policy; left as it is") {
		t.Errorf("--out over the same policy: exit %d, stderr %q", code, stderr)
	}
	ens := filepath.Join(dir, "ens.json")
	if code, _, stderr := runCmd("export", "--run", a, "--run", b, "--out", ens); code != 0 {
		t.Fatalf("ensemble: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCmd("export", "--run", b, "--out", ens); code != 0 ||
		!strings.Contains(stderr, "replaced "+ens+", which held a ppo ensemble of 2 networks (training seeds 1, 2)") {
		t.Errorf("--out over an ensemble: exit %d, stderr %q", code, stderr)
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd("export", "--run", a, "--out", empty); code != 0 || stderr != "" {
		t.Errorf("--out over an empty file: exit %d, stderr %q", code, stderr)
	}

	// --check of what is not a policy file.
	ck := filepath.Join(a, "checkpoint.bin")
	if code, _, stderr := runCmd("export", "--check", ck); code != 1 || !strings.Contains(stderr, ck+" is a training checkpoint, not a policy file: export it with --run "+a) {
		t.Errorf("--check of a checkpoint: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCmd("export", "--check", trace); code != 1 || !strings.Contains(stderr, trace+": policy: not JSON: not a policy file") {
		t.Errorf("--check of a CSV file: exit %d, stderr %q", code, stderr)
	}

	// Every headroom scale out of range gets one message, 0 included.
	for _, v := range []string{"0", "-1", ".nan", "1e9"} {
		code, _, stderr := runCmd("export", "--run", a, "--out", filepath.Join(dir, "h.json"), "--params", "headroom_scale: "+v)
		if code != 1 || !strings.Contains(stderr, "--params: headroom_scale: ") || !strings.Contains(stderr, ": must be > 0 and at most 10") {
			t.Errorf("--params headroom_scale: %s: exit %d, stderr %q", v, code, stderr)
		}
	}
}

// An ensemble of one run twice (the same directory, however spelt; a copy of it),
// of runs of two algorithms, or of runs trained on different services is refused,
// naming the --run and what differs in words; runs whose actions are not in
// increasing order too, naming the run and env.actions. Nothing is written.
func TestExportEnsembleRefusesRepeatedOrMixedRuns(t *testing.T) {
	dir := t.TempDir()
	a := trainTiny(t, dir, "a", "")
	dqnConf := filepath.Join(dir, "dqn.yaml")
	if err := os.WriteFile(dqnConf, []byte("algorithm: dqn\nsteps: 512\ntraces: [{builtin: step}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dqn := filepath.Join(dir, "dqn")
	if code, _, stderr := runCmd("train", "--config", dqnConf, "--out", dqn, "--quiet"); code != 0 {
		t.Fatalf("train dqn: exit %d: %s", code, stderr)
	}
	svc := trainTiny(t, dir, "svc", "seed: 2\nenv: {sim: {control_interval: 30s, max_replicas: 40}}\n")
	down := trainTiny(t, dir, "down", "env: {action_mode: target, actions: [90, 40]}\n")
	down2 := trainTiny(t, dir, "down2", "seed: 2\nenv: {action_mode: target, actions: [90, 40]}\n")
	copied := filepath.Join(dir, "copy")
	if err := os.Mkdir(copied, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"checkpoint.bin", "config.yaml"} {
		b, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(copied, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("a", link); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "ens.json")
	for _, c := range []struct {
		name string
		runs []string
		want string
	}{
		{"the same run twice", []string{a, a}, "--run " + a + ": the same run directory as --run " + a + ": an ensemble is of runs of one configuration with different seeds"},
		{"another spelling", []string{a, a + "/./"}, "--run " + a + "/./: the same run directory as --run " + a},
		{"a link to the run", []string{a, link}, "--run " + link + ": the same run directory as --run " + a},
		{"a copy of the run", []string{a, copied}, "--run " + copied + ": its network is that of --run " + a + ": the same training twice"},
		{"two algorithms", []string{a, dqn}, "--run " + dqn + ": it was trained by dqn, the first policy by ppo: an ensemble's networks are of one algorithm (the first --run is " + a + ")"},
		{"two services", []string{a, svc}, "--run " + svc + ": it was trained on another simulator than the first policy: control_interval 30s (the first policy: 15s), max_replicas 40 (the first policy: 50)"},
		{"actions out of order", []string{down, down2}, "--run " + down + ": its actions [90 40]: an ensemble needs them in increasing order (it takes the median of its networks' actions): the runs' env.actions must be in increasing order"},
	} {
		args := []string{"export", "--out", out}
		for _, r := range c.runs {
			args = append(args, "--run", r)
		}
		code, _, stderr := runCmd(args...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %q", c.name, code, stderr, c.want)
		}
		if strings.Contains(stderr, "{") {
			t.Errorf("%s: a Go value in the message: %s", c.name, stderr)
		}
		if exists(out) {
			t.Fatalf("%s: %s written", c.name, out)
		}
	}
}
