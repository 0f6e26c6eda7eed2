package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/internal/buildinfo"
)

// `intelliscale version` and `intelliscale --version` print the same line, which
// parses as a build.
func TestVersionParses(t *testing.T) {
	var lines []string
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, stderr := runCmd(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		in, err := buildinfo.Parse(out)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if in.Version == "" || in.Go == "" || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
			t.Fatalf("%v: %q", args, out)
		}
		lines = append(lines, out)
	}
	if lines[0] != lines[1] || lines[1] != lines[2] {
		t.Fatalf("version outputs differ: %q", lines)
	}
	if code, _, _ := runCmd("version", "extra"); code != 1 {
		t.Fatalf("version with an argument: exit %d, want 1", code)
	}
}

// A training run, the policy file exported from it and an experiment's results
// directory record the build; the report shows it.
func TestRunsRecordTheBuild(t *testing.T) {
	dir := t.TempDir()
	want := buildinfo.Read().String()
	conf := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(conf, []byte("algorithm: ppo\nsteps: 512\ntraces:\n  - builtin: step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if code, _, stderr := runCmd("train", "--config", conf, "--out", run, "--quiet"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if lines, err := buildinfo.Lines(run); err != nil || len(lines) != 1 || lines[0] != want {
		t.Fatalf("run directory records %q (%v), want %q", lines, err, want)
	}
	p, err := policy.Load(filepath.Join(run, "policy.json"))
	if err != nil || p.Training.Build != want {
		t.Fatalf("policy.json: build %q (%v), want %q", p.Training.Build, err, want)
	}
	exported := filepath.Join(dir, "exported.json")
	code, out, stderr := runCmd("export", "--run", run, "--out", exported)
	if code != 0 || !strings.Contains(out, "written by "+want) {
		t.Fatalf("export: exit %d: %s%s", code, out, stderr)
	}
	if p, err := policy.Load(exported); err != nil || p.Training.Build != want {
		t.Fatalf("exported policy: build %q (%v)", p.Training.Build, err)
	}

	exp := filepath.Join(dir, "e.yaml")
	if err := os.WriteFile(exp, []byte(tinyExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	res := filepath.Join(dir, "res")
	if code, _, stderr := runCmd("experiment", "run", "--config", exp, "--out", res, "--quiet"); code != 0 {
		t.Fatalf("experiment run: exit %d: %s", code, stderr)
	}
	if lines, err := buildinfo.Lines(res); err != nil || len(lines) != 1 || lines[0] != want {
		t.Fatalf("results directory records %q (%v), want %q", lines, err, want)
	}
	md, err := os.ReadFile(filepath.Join(res, "report", "REPORT.md"))
	if err != nil || !strings.Contains(string(md), "Produced by "+want+".") {
		t.Fatalf("REPORT.md lacks the Produced by line (%v)", err)
	}
	code, _, stderr = runCmd("report", "--quiet", res)
	if code != 0 || !strings.Contains(stderr, "report: produced by "+want) {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
}

// A policy's deploy-time target scale given to export (written into the file) and
// given to sim with the plain file (--params) make the same decisions, which are
// not the plain policy's; a target scale for a policy whose actions are replica
// changes is refused, naming the field, and writes nothing.
func TestDeployParamsThroughExportAndSim(t *testing.T) {
	dir := t.TempDir()
	target := trainTiny(t, dir, "target", "env: {action_mode: target, actions: [40, 60, 80]}\n")
	hot := filepath.Join(dir, "hot.json")
	if code, out, stderr := runCmd("export", "--run", target, "--out", hot, "--params", "headroom_scale: 1.2"); code != 0 || !strings.Contains(out, "headroom scale: 1.2") {
		t.Fatalf("export: exit %d: %s%s", code, out, stderr)
	}
	if p, err := policy.Load(hot); err != nil || p.HeadroomScale != 1.2 {
		t.Fatalf("exported policy: headroom_scale %v (%v)", p.HeadroomScale, err)
	}
	sim := func(args ...string) string {
		code, out, stderr := runCmd(append([]string{"sim", "--builtin", "step", "--length", "12h", "--timeline", ""}, args...)...)
		if code != 0 {
			t.Fatalf("sim %v: exit %d: %s", args, code, stderr)
		}
		// The policy's name (the file's) is in the first line.
		return out[strings.Index(out, "\n"):]
	}
	plain := filepath.Join(target, "policy.json")
	viaFile, viaFlag, asTrained := sim("--policy-file", hot), sim("--policy-file", plain, "--params", "headroom_scale: 1.2"), sim("--policy-file", plain)
	if viaFile != viaFlag {
		t.Errorf("headroom_scale in the file and as --params differ:\n%s\n%s", viaFile, viaFlag)
	}
	if viaFile == asTrained {
		t.Errorf("headroom_scale 1.2 changed nothing:\n%s", viaFile)
	}

	delta := trainTiny(t, dir, "delta", "")
	bad := filepath.Join(dir, "bad.json")
	code, _, stderr := runCmd("export", "--run", delta, "--out", bad, "--params", "headroom_scale: 1.2")
	if code == 0 || !strings.Contains(stderr, "--params: headroom_scale: 1.2: only for action_mode target or forecast") {
		t.Errorf("export of a delta policy with headroom_scale: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a refused export wrote %s (%v)", bad, err)
	}
	if code, _, stderr := runCmd("sim", "--builtin", "step", "--timeline", "", "--policy-file", plain, "--params", "headroom_scael: 1.2"); code == 0 || !strings.Contains(stderr, `unknown key "headroom_scael"`) {
		t.Errorf("sim with a misspelt deploy parameter: exit %d: %s", code, stderr)
	}
}
