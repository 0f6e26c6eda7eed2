package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A training refuses, without --resume, a directory holding any file a training
// writes but no checkpoint (another run's results copied there, a user's
// config.yaml, a finished run whose checkpoint was deleted), naming the file and
// leaving it as it was; an empty directory, or one holding only other files, is
// trained in.
func TestTrainRefusesADirectoryOfResults(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(conf, []byte(lockTestConf+"steps: 256\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"policy.json", "config.yaml", "progress.csv", "reward_curve.png", "build.txt",
		"warm_start.csv", "selection.csv", "policy-last.json"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "pol")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			const kept = "kept\n"
			if err := os.WriteFile(filepath.Join(out, name), []byte(kept), 0o644); err != nil {
				t.Fatal(err)
			}
			want := "--out " + out + " holds " + name + ", which a training would replace, and no checkpoint to resume: choose a new directory"
			if code, _, stderr := runCmd("train", "--config", conf, "--out", out, "--quiet"); code != 1 || !strings.Contains(stderr, want) {
				t.Errorf("exit %d, stderr %q; want %q", code, stderr, want)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 1 {
				t.Errorf("the refused training left %d files, want the one there", len(ents))
			}
			if b, _ := os.ReadFile(filepath.Join(out, name)); string(b) != kept {
				t.Errorf("%s changed: %q", name, b)
			}
		})
	}

	// A finished run without its checkpoint keeps its policy.
	run := filepath.Join(dir, "run")
	if code, _, stderr := runCmd("train", "--config", conf, "--out", run, "--quiet"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	pol, err := os.ReadFile(filepath.Join(run, "policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(run, "checkpoint.bin")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd("train", "--config", conf, "--out", run, "--quiet"); code != 1 || !strings.Contains(stderr, "--out "+run+" holds config.yaml") {
		t.Errorf("a finished run without its checkpoint: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(run, "policy.json")); string(b) != string(pol) {
		t.Error("policy.json of the finished run changed")
	}
	if code, _, stderr := runCmd("train", "--config", conf, "--out", run, "--quiet", "--resume"); code != 1 || !strings.Contains(stderr, "--resume: "+run+" holds no checkpoint") {
		t.Errorf("--resume without a checkpoint: exit %d, stderr %q", code, stderr)
	}

	// An empty directory, and one holding other files.
	empty, notes := filepath.Join(dir, "empty"), filepath.Join(dir, "notes")
	for _, d := range []string{empty, notes} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(notes, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{empty, notes} {
		if code, _, stderr := runCmd("train", "--config", conf, "--out", d, "--quiet"); code != 0 {
			t.Errorf("--out %s: exit %d: %s", d, code, stderr)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(notes, "notes.txt")); string(b) != "mine\n" {
		t.Error("notes.txt changed")
	}
}
