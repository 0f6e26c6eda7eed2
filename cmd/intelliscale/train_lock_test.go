package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lockTestConf is a PPO training of a few hundred steps a second: with steps
// 1e7 it runs until it is interrupted.
const lockTestConf = "algorithm: ppo\ntraces: [{builtin: step}]\nppo: {num_envs: 2, num_steps: 64, num_minibatches: 1, update_epochs: 1, hidden: [8]}\n"

// startTraining runs `train --config conf --out out --quiet` in a child process
// (the test binary as intelliscale) and returns it, its stderr going to a file,
// once ready says it has got far enough.
func startTraining(t *testing.T, conf, out string, ready func() bool) (*exec.Cmd, string) {
	t.Helper()
	logPath := out + ".log"
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "INTELLISCALE_TEST_MAIN=train --config "+conf+" --out "+out+" --quiet")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	for deadline := time.Now().Add(time.Minute); !ready(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("the training never got going:\n%s", b)
		}
	}
	return cmd, logPath
}

// interrupt stops the child training with SIGINT and returns its output.
func interrupt(t *testing.T, cmd *exec.Cmd, logPath string) string {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the training still runs a minute after SIGINT")
	}
	b, _ := os.ReadFile(logPath)
	return string(b)
}

// A second training of a run directory in use, fresh or --resume, is refused
// naming the directory and the process writing it, and changes nothing there; the
// lock goes with the training, and a directory a training left before its first
// checkpoint holds nothing of it, so that a training runs there again.
func TestTrainRefusesARunDirectoryInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dir := t.TempDir()
	long := filepath.Join(dir, "long.yaml")
	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(long, []byte(lockTestConf+"steps: 10000000\ncheckpoint_every: 256\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte(lockTestConf+"steps: 256\nseed: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	race := filepath.Join(dir, "race")
	cmd, logPath := startTraining(t, long, race, func() bool { return exists(filepath.Join(race, "checkpoint.bin")) })
	want := fmt.Sprintf("--out %s is in use by another training (process %d)", race, cmd.Process.Pid)
	for _, args := range []string{
		"train --config " + other + " --out " + race + " --quiet",
		"train --config " + long + " --out " + race + " --quiet --resume",
	} {
		// In a child process too, so that a training not refused cannot hold up the
		// test for the ten million steps of the config.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		second := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		second.Env = append(os.Environ(), "INTELLISCALE_TEST_MAIN="+args)
		out, err := second.CombinedOutput()
		cancel()
		if code := second.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), want) {
			t.Errorf("%s while another training writes the directory: exit %d (%v), %s; want %q", args, code, err, out, want)
		}
	}
	if exists(filepath.Join(race, "policy.json")) {
		t.Error("the refused training wrote policy.json")
	}
	if out := interrupt(t, cmd, logPath); !strings.Contains(out, "interrupted; resume with") {
		t.Fatalf("the first training: %s", out)
	}
	if exists(filepath.Join(race, lockFile)) {
		t.Errorf("%s left behind by an interrupted training", lockFile)
	}

	// Interrupted before its first checkpoint: the directory is left empty, and
	// another training takes it.
	early := filepath.Join(dir, "early")
	noCheckpoint := filepath.Join(dir, "nock.yaml")
	if err := os.WriteFile(noCheckpoint, []byte(lockTestConf+"steps: 10000000\ncheckpoint_every: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, logPath = startTraining(t, noCheckpoint, early, func() bool { return exists(filepath.Join(early, "progress.csv")) })
	if out := interrupt(t, cmd, logPath); !strings.Contains(out, "interrupted before the first checkpoint") {
		t.Fatalf("the training: %s", out)
	}
	if ents, _ := os.ReadDir(early); len(ents) != 0 {
		t.Errorf("%s holds %d files after a training interrupted before its first checkpoint, want none", early, len(ents))
	}
	if code, _, stderr := runCmd("train", "--config", other, "--out", early, "--quiet"); code != 0 {
		t.Errorf("a training after one interrupted before its first checkpoint: exit %d: %s", code, stderr)
	}
}

// A training in this process holds its directory against another training of
// this process (both have its process id), under another spelling of the path
// too; a lock left by a process no longer running, or by an earlier process with
// this one's id, is taken over, saying so; a lock of another host, or one naming
// no process, is refused, naming it.
func TestTrainLock(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(conf, []byte(lockTestConf+"steps: 256\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := lockRun(run, nil)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("run", link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{run, link} {
		want := fmt.Sprintf("--out %s is in use by another training (process %d)", out, os.Getpid())
		if code, _, stderr := runCmd("train", "--config", conf, "--out", out, "--quiet"); code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("--out %s held by this process: exit %d, %s; want %q", out, code, stderr, want)
		}
	}
	unlock()
	if exists(filepath.Join(run, lockFile)) {
		t.Fatal("unlock left the lock")
	}
	if code, _, stderr := runCmd("train", "--config", conf, "--out", run, "--quiet"); code != 0 {
		t.Fatalf("--out %s once free: exit %d: %s", run, code, stderr)
	}

	// A process that has ended.
	gone := exec.Command(os.Args[0], "-test.run=^$")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	for _, c := range []struct {
		name, lock, want string
		ok               bool
	}{
		{"a process no longer running", fmt.Sprintf("%d\n%s\n", gone.Process.Pid, host),
			fmt.Sprintf("was left by process %d, which is no longer running; taking the directory over", gone.Process.Pid), true},
		{"this process id, held by no training here", fmt.Sprintf("%d\n%s\n", os.Getpid(), host),
			fmt.Sprintf("was left by process %d, which is no longer running", os.Getpid()), true},
		{"another host", "1\nelsewhere.invalid\n",
			"is in use by a training on host elsewhere.invalid (process 1): wait for it to end or choose another --out; if it no longer runs, remove", false},
		{"no process named", "what\n",
			"train.lock does not name the training holding the directory: if none is running, remove it", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			lock := filepath.Join(out, lockFile)
			if err := os.WriteFile(lock, []byte(c.lock), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCmd("train", "--config", conf, "--out", out, "--quiet")
			if (code == 0) != c.ok || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want success %v and %q", code, stderr, c.ok, c.want)
			}
			b, err := os.ReadFile(lock)
			switch {
			case c.ok && err == nil:
				t.Errorf("the lock is left after the training: %q", b)
			case !c.ok && string(b) != c.lock:
				t.Errorf("a refused training changed the lock: %q (%v)", b, err)
			}
		})
	}
}
