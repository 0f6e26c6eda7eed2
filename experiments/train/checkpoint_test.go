package train

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/traces"
)

// TestDamagedCheckpointRefused: a checkpoint with one byte changed anywhere (the
// magic aside), or cut short, is refused by Run and Export with its path and
// "damaged", before anything in the directory is written; a finished run's
// policy.json stays as it was. The intact checkpoint then resumes to the
// uninterrupted run's bytes.
func TestDamagedCheckpointRefused(t *testing.T) {
	cfg := tinyConfig(PPO)
	cfg.CheckpointEvery = 500
	dirA := t.TempDir()
	if _, err := Run(cfg, dirA, nil); err != nil {
		t.Fatal(err)
	}
	want := readFile(t, filepath.Join(dirA, PolicyFile))

	dir := t.TempDir()
	runKilled(t, cfg, dir, 1000)
	path := filepath.Join(dir, CheckpointFile)
	good := readFile(t, path)
	type damage struct {
		name  string
		bytes []byte
	}
	var damaged []damage
	for _, at := range []int{len(checkpointMagic) + 10, 100, 2000, len(good) / 2, len(good) - 1} {
		b := bytes.Clone(good)
		b[at] ^= 0x10
		damaged = append(damaged, damage{fmt.Sprintf("byte %d changed", at), b})
	}
	damaged = append(damaged, damage{"cut short", good[:len(good)-10]})
	files := []string{ConfigFile, ProgressFile}
	before := map[string][]byte{}
	for _, f := range files {
		before[f] = readFile(t, filepath.Join(dir, f))
	}
	for _, d := range damaged {
		name := d.name
		if err := os.WriteFile(path, d.bytes, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Run(cfg, dir, nil)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("%s: Run: error %v, want one naming %s as damaged", name, err, path)
		}
		if _, err := Export(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Fatalf("%s: Export: error %v, want one saying damaged", name, err)
		}
		for _, f := range files {
			if !bytes.Equal(before[f], readFile(t, filepath.Join(dir, f))) {
				t.Fatalf("%s: %s written by a refused resume", name, f)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, PolicyFile)); err == nil {
			t.Fatalf("%s: policy.json written by a refused resume", name)
		}
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, readFile(t, filepath.Join(dir, PolicyFile))) {
		t.Fatal("resumed from the intact checkpoint: policy.json differs from the uninterrupted run's")
	}

	// A finished run keeps its policy.json.
	pathA := filepath.Join(dirA, CheckpointFile)
	b := readFile(t, pathA)
	b[100] ^= 0x10
	if err := os.WriteFile(pathA, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(cfg, dirA, nil); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("finished run, damaged checkpoint: error %v, want a refusal", err)
	}
	if !bytes.Equal(want, readFile(t, filepath.Join(dirA, PolicyFile))) {
		t.Fatal("a refused resume of a finished run changed its policy.json")
	}
}

// TestCheckpointOfFormat2Resumes: a checkpoint written before checkpoints carried a
// hash (format 2: the magic, then the gob) still resumes, to the same bytes.
func TestCheckpointOfFormat2Resumes(t *testing.T) {
	cfg := tinyConfig(DQN)
	cfg.CheckpointEvery = 400
	_, want := finishedRunFiles(t, cfg)
	dir := t.TempDir()
	runKilled(t, cfg, dir, 1000)
	path := filepath.Join(dir, CheckpointFile)
	ck, err := readCheckpoint(path)
	if err != nil || ck == nil {
		t.Fatalf("checkpoint %v, %v", ck, err)
	}
	var buf bytes.Buffer
	buf.WriteString("INTELLISCALE-CHECKPOINT-2\n")
	if err := gob.NewEncoder(&buf).Encode(ck); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, PolicyFile)); !bytes.Equal(got, want) {
		t.Fatal("resumed from a format 2 checkpoint: policy.json differs from the uninterrupted run's")
	}
	if b := readFile(t, path); !bytes.HasPrefix(b, []byte(checkpointMagic)) {
		t.Fatalf("the checkpoint written on resume starts %.30q, want format 3", b)
	}
}

// finishedRunFiles trains cfg uninterrupted in a fresh directory and returns it
// with its policy.json.
func finishedRunFiles(t *testing.T, cfg Config) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Run(cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	return dir, readFile(t, filepath.Join(dir, PolicyFile))
}

// TestResumeOtherConfigSaysWhatChanged: resuming under another configuration is
// refused with the settings that differ from the run directory's config.yaml (not
// checkpoint_every, which may change, nor the algorithm section's copies of steps
// and seed), or, when only a trace file's contents changed, says so.
func TestResumeOtherConfigSaysWhatChanged(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig(DQN)
	cfg.CheckpointEvery = 300
	runKilled(t, cfg, dir, 700)
	other := cfg
	other.Seed, other.Steps, other.CheckpointEvery = 5, 2048, 400
	other.Env.SLOWeight = new(float64)
	*other.Env.SLOWeight = 9
	_, err := Run(other, dir, nil)
	if err == nil {
		t.Fatal("resumed under another configuration")
	}
	msg := err.Error()
	for _, want := range []string{"another configuration (steps 1536 → 2048, seed 1 → 5, env.slo_weight 5 → 9; sha256:", "use a new directory"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("error %q: want %q", msg, want)
		}
	}
	for _, not := range []string{"checkpoint_every", "dqn.seed", "dqn.total_steps"} {
		if strings.Contains(msg, not) {
			t.Fatalf("error %q names %s", msg, not)
		}
	}

	// A trace file rewritten with other rates: the same settings.
	trace := filepath.Join(t.TempDir(), "t.csv")
	writeTrace := func(rate int) {
		var b strings.Builder
		b.WriteString("seconds,rate\n")
		for m := range 12 * 60 {
			fmt.Fprintf(&b, "%d,%d\n", 60*m, rate+m%7)
		}
		if err := os.WriteFile(trace, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeTrace(40)
	fc := tinyConfig(DQN)
	fc.Traces[0] = traces.Source{File: trace}
	fc.CheckpointEvery = 300
	dir = t.TempDir()
	runKilled(t, fc, dir, 700)
	writeTrace(50)
	if _, err := Run(fc, dir, nil); err == nil || !strings.Contains(err.Error(), "another configuration (the same settings in config.yaml, other trace contents; sha256:") {
		t.Fatalf("error %v: want one saying the settings are the same", err)
	}
}

// TestUnreadableSnapshotNamesCheckpoint: a checkpoint whose learner section does not
// decode (intact as a file) is refused with the checkpoint's path.
func TestUnreadableSnapshotNamesCheckpoint(t *testing.T) {
	cfg := tinyConfig(PPO)
	cfg.CheckpointEvery = 500
	dir := t.TempDir()
	runKilled(t, cfg, dir, 1000)
	path := filepath.Join(dir, CheckpointFile)
	ck, err := readCheckpoint(path)
	if err != nil || ck == nil {
		t.Fatalf("checkpoint %v, %v", ck, err)
	}
	ck.Learner[len(ck.Learner)/2] ^= 0xff
	ck.Learner = ck.Learner[:len(ck.Learner)*3/4]
	if err := writeCheckpoint(path, ck); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(cfg, dir, nil); err == nil || !strings.Contains(err.Error(), "train: "+path+": ppo: ") {
		t.Fatalf("error %v: want one naming %s", err, path)
	}
}
