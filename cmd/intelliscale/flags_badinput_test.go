package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A flag that the command would ignore is refused, naming it, and nothing is
// written: export --check describes a file as it is (no --out, no --params), and
// sim runs a policy file or a rule (not --policy beside --policy-file).
func TestFlagsIgnoredOtherwiseAreRefused(t *testing.T) {
	dir := t.TempDir()
	file := exportTiny(t, dir, "p", "env: {action_mode: target, actions: [40, 60, 80]}\n")
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.json")
	sim := []string{"sim", "--builtin", "step", "--length", "30m", "--timeline", ""}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"export --check with --out", []string{"export", "--check", file, "--out", other}, "--out: only with --run"},
		{"export --check with --out the file itself", []string{"export", "--check", file, "--out", file}, "--out: only with --run"},
		{"export --check with --params", []string{"export", "--check", file, "--params", "headroom_scale: 0.8"}, "--params: only with --run"},
		{"sim --policy beside --policy-file", append(sim, "--policy", "kpa", "--policy-file", file),
			"--policy kpa and --policy-file " + file + ": give one"},
		{"sim --policy-file beside --policy", append(sim, "--policy-file", file, "--policy", "hpa"),
			"--policy hpa and --policy-file " + file + ": give one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCmd(c.args...)
			if code == 0 || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d: %s\nwant a failure saying %q", code, stderr, c.want)
			}
			if _, err := os.Stat(other); !os.IsNotExist(err) {
				t.Errorf("%s written: %v", other, err)
			}
			if after, err := os.ReadFile(file); err != nil || string(after) != string(before) {
				t.Errorf("%s changed: %v", file, err)
			}
		})
	}
	// What stays accepted: --check alone (or with empty values), and sim with the file alone or with an
	// empty --policy (an empty value counts as not given).
	for _, args := range [][]string{
		{"export", "--check", file},
		{"export", "--check", file, "--params", "", "--out", ""},
		append(sim, "--policy-file", file),
		append(sim, "--policy", "", "--policy-file", file, "--params", "headroom_scale: 0.8"),
	} {
		if code, _, stderr := runCmd(args...); code != 0 {
			t.Errorf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
	}
}
