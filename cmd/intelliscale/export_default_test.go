package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents/policy"
)

// The default --out of export never replaces a file holding another policy: a
// second export of the run with other --params goes to policy-step<N>-2.json and
// says so, the first file keeping its bytes; exporting the same policy again
// leaves the file that holds it and makes no copy.
func TestExportDefaultNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	run := trainTiny(t, dir, "a", "env: {action_mode: target, actions: [40, 60, 80]}\n")
	first, second := filepath.Join(run, "policy-step512.json"), filepath.Join(run, "policy-step512-2.json")

	code, stdout, stderr := runCmd("export", "--run", run)
	if code != 0 || !strings.HasPrefix(stdout, first+": ") {
		t.Fatalf("first export: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	firstBytes, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr = runCmd("export", "--run", run, "--params", "headroom_scale: 0.8")
	if code != 0 || !strings.HasPrefix(stdout, second+": ") ||
		!strings.Contains(stderr, "export: "+first+" holds another policy, which the default --out never replaces; writing "+second) {
		t.Fatalf("export with other --params: exit %d, stdout %q, stderr %q; want %s written and said", code, stdout, stderr, second)
	}
	if b, _ := os.ReadFile(first); string(b) != string(firstBytes) {
		t.Fatalf("%s replaced by the second export", first)
	}
	if p, err := policy.Load(second); err != nil || p.HeadroomScale != 0.8 {
		t.Fatalf("%s: %v, want the policy with headroom scale 0.8", second, err)
	}

	// Again with the same --params: the file that holds this policy is named, no third.
	code, stdout, stderr = runCmd("export", "--run", run, "--params", "headroom_scale: 0.8")
	if code != 0 || !strings.HasPrefix(stdout, second+": ") || !strings.Contains(stderr, second+" already holds this policy") {
		t.Fatalf("repeated export: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(run, "policy-step512-3.json")); !os.IsNotExist(err) {
		t.Fatalf("a repeated export made a copy: %v", err)
	}

	// --check and --run together are refused, saying why.
	code, _, stderr = runCmd("export", "--check", first, "--run", run)
	if code != 1 || !strings.Contains(stderr, "--check and --run exclude each other") {
		t.Fatalf("--check with --run: exit %d, stderr %q", code, stderr)
	}
}
