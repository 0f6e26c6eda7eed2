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
