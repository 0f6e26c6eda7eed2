package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/experiments"
)

func TestExperimentCommands(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(conf, []byte(`name: tiny
seeds: [1, 2, 3]
traces:
  - name: wave
    synth: {duration: 2h, bucket: 1m, base_rate: 20, diurnal: {amplitude: 0.5}}
policies:
  - {name: threshold, kind: threshold}
  - {name: oracle, kind: oracle}
`), 0o644)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"experiment", "run", "--config", conf, "--out", out, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("experiment run: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "All policies on the test windows") || !strings.Contains(stderr.String(), "12 cells run, 0 already done") {
		t.Errorf("run output:\n%s\n%s", stdout.String(), stderr.String())
	}
	md, err := os.ReadFile(filepath.Join(out, "report", "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	// A second run resumes: nothing to do. The report rebuilds identically from disk.
	stderr.Reset()
	if code := run([]string{"experiment", "run", "--config", conf, "--out", out, "--quiet", "--no-report"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "0 cells run, 12 already done") {
		t.Errorf("rerun: exit %d\n%s", code, stderr.String())
	}
	os.RemoveAll(filepath.Join(out, "report"))
	if code := run([]string{"report", "--quiet", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr.String())
	}
	md2, _ := os.ReadFile(filepath.Join(out, "report", "REPORT.md"))
	if !bytes.Equal(md, md2) {
		t.Error("rebuilt REPORT.md differs")
	}

	stdout.Reset()
	if code := run([]string{"experiment", "k8s-job", "--image", "img:1", "--shards", "3"}, &stdout, &stderr); code != 0 {
		t.Fatalf("k8s-job: exit %d\n%s", code, stderr.String())
	}
	for _, want := range []string{"completionMode: Indexed", "completions: 3", `- "$(SHARD_INDEX)/3"`, "name: SHARD_INDEX", "job-completion-index"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
	stderr.Reset()
	if code := run([]string{"experiment", "run", "--config", filepath.Join(dir, "nope.yaml")}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "nope.yaml") {
		t.Errorf("missing config: exit %d, %q", code, stderr.String())
	}
	if code := run([]string{"experiment", "frobnicate"}, &stdout, &stderr); code != 1 {
		t.Errorf("unknown subcommand: exit %d", code)
	}
}

// --check counts the cells a run runs, the training and tuning ones beside the
// evaluation ones, so that its figure is the run's progress total.
func TestExperimentCheckCountsEveryCell(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "c.yaml")
	const text = "name: count\nseeds: [1, 2]\ntraces: [{name: a, builtin: step, length: 6h}]\npolicies:\n  - {name: threshold, kind: threshold}\n  - {name: hpa-tuned, kind: hpa-tuned, tune: {param: target_utilization, grid: [0.5, 0.7]}}\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := experiments.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	prep, eval := experiments.Matrix(cfg)
	if len(prep) == 0 {
		t.Fatal("no tuning cell: nothing to count")
	}
	code, out, errs := runCmd("experiment", "run", "--config", conf, "--check")
	want := fmt.Sprintf("%s: ok (1 traces, 2 policies, %d cells: %d training and tuning, %d evaluation)\n", conf, len(prep)+len(eval), len(prep), len(eval))
	if code != 0 || out != want {
		t.Errorf("exit %d, stdout %q (stderr %q); want %q", code, out, errs, want)
	}
}
