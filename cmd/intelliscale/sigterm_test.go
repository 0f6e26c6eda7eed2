package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The long-running commands stop on SIGTERM (and SIGINT) in the middle of a single
// huge simulated step (an hour at traces.MaxRate, 3.6e9 requests, inside one
// control interval): they exit through their own interrupt path with a non-zero
// status, promptly, and leave only complete files (no temporary file, no half-written
// result). The binary is built once and run as a child process, as a user runs it.
// The bound on the exit latency is generous so that a loaded machine does not fail
// the test; the measured latency is logged.
func TestLongCommandsStopOnSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs child processes")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "intelliscale")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Ten one-hour buckets at the largest rate a trace may hold; every command runs
	// the simulator with an hour-long control interval, so one step is an hour of it.
	var tr strings.Builder
	tr.WriteString("seconds,rate\n")
	for i := range 10 {
		fmt.Fprintf(&tr, "%d,1000000\n", 3600*i)
	}
	write(t, dir, "huge.csv", tr.String())
	write(t, dir, "sim.yaml", "control_interval: 1h\nmax_replicas: 50\n")
	write(t, dir, "train.yaml", `algorithm: ppo
steps: 2048
traces: [{file: huge.csv}]
env:
  episode_length: 2h
  warmup: -1s
  sim: {control_interval: 1h, max_replicas: 50}
ppo: {num_envs: 2, num_steps: 8, num_minibatches: 1, update_epochs: 1}
`)
	write(t, dir, "experiment.yaml", `name: huge
seeds: [1]
workers: 1
sim: {control_interval: 1h, max_replicas: 50}
traces:
  - name: huge
    file: huge.csv
    windows:
      train: {start: 0h, end: 4h}
      validation: {start: 4h, end: 7h}
      test: {start: 7h, end: 10h}
eval: [test]
policies: [{name: hpa, kind: hpa}]
`)
	simArgs := []string{"sim", "--trace", "huge.csv", "--config", "sim.yaml", "--policy", "hpa",
		"--timeline", "out/timeline.csv", "--openmetrics", "out/metrics.txt"}
	help, _ := exec.Command(bin, "sim", "--help").CombinedOutput()
	if bytes.Contains(help, []byte("-force")) {
		simArgs = append(simArgs, "--force") // past the work estimate's refusal
	}

	for _, tc := range []struct {
		name    string
		args    []string
		sig     syscall.Signal
		out     string                   // output directory the command writes into
		started func(stderr string) bool // the command has begun its work
		absent  []string                 // results an interrupted run must not leave
		say     string                   // what the interruption message must say
	}{
		{
			name: "sim/SIGTERM", args: simArgs, sig: syscall.SIGTERM, out: "out",
			started: func(s string) bool { return strings.Contains(s, "simulated requests") }, // the estimate line
			absent:  []string{"timeline.csv", "metrics.txt"},
			say:     "interrupted; nothing written",
		},
		{
			name: "train/SIGTERM", args: []string{"train", "--config", "train.yaml", "--out", "run"}, sig: syscall.SIGTERM, out: "run",
			started: func(string) bool { return exists(filepath.Join(dir, "run", "config.yaml")) },
			absent:  []string{"policy.json"},
		},
		{
			name: "experiment/SIGTERM", args: []string{"experiment", "run", "--config", "experiment.yaml", "--out", "results", "--no-report"}, sig: syscall.SIGTERM, out: "results",
			started: func(string) bool { return exists(filepath.Join(dir, "results", "config.yaml")) },
			absent:  []string{"summary.csv", "metrics.json"},
			say:     "run the same command again to resume",
		},
		{
			name: "experiment/SIGINT", args: []string{"experiment", "run", "--config", "experiment.yaml", "--out", "results-int", "--no-report"}, sig: syscall.SIGINT, out: "results-int",
			started: func(string) bool { return exists(filepath.Join(dir, "results-int", "config.yaml")) },
			absent:  []string{"summary.csv", "metrics.json"},
			say:     "run the same command again to resume",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, tc.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "CI=")
			stderr := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = stderr, stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			exited := false
			defer func() {
				if !exited {
					cmd.Process.Kill()
					<-done
				}
			}()

			// Started, then busy inside the step: half a second of CPU beyond the start.
			base := -1.0
			deadline := time.Now().Add(2 * time.Minute)
			for {
				select {
				case err := <-done:
					exited = true
					t.Fatalf("exited before the signal: %v\n%s", err, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("not busy inside a step after 2 minutes\n%s", stderr.String())
				}
				if !tc.started(stderr.String()) {
					continue
				}
				cpu, ok := cpuSeconds(cmd.Process.Pid)
				if !ok {
					break // no /proc: the start line or file is all we know
				}
				if base < 0 {
					base = cpu
				}
				if cpu-base >= 0.5 {
					break
				}
			}

			busy, _ := cpuSeconds(cmd.Process.Pid)
			sent := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-done:
				exited = true
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10 s after %v\n%s", tc.sig, stderr.String())
			}
			latency := time.Since(sent)
			t.Logf("%v after %.2f s of CPU: exited %v after the signal (%v)", tc.sig, busy, latency.Round(time.Millisecond), err)

			var ee *exec.ExitError
			switch {
			case !errors.As(err, &ee):
				t.Fatalf("exit: %v, want a non-zero status\n%s", err, stderr.String())
			case ee.ExitCode() <= 0:
				t.Fatalf("exit: %v: killed by the signal instead of stopping on it\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("no word of the interruption on stderr:\n%s", stderr.String())
			}
			if tc.say != "" && !strings.Contains(stderr.String(), tc.say) {
				t.Errorf("stderr does not say %q:\n%s", tc.say, stderr.String())
			}
			checkCompleteFiles(t, filepath.Join(dir, tc.out), tc.absent)
		})
	}
}

func write(t *testing.T, dir, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// cpuSeconds is the user and system CPU time process pid has used so far, from
// /proc/PID/stat; ok is false where there is no /proc.
func cpuSeconds(pid int) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may hold spaces:
	// state is field 3, utime 14 and stime 15 (proc(5)).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const ticks = 100 // USER_HZ on Linux
	return (ut + st) / ticks, true
}

// checkCompleteFiles walks dir: no temporary file is left, none of the names in
// absent exists anywhere, and every CSV, JSON and YAML file present parses whole.
func checkCompleteFiles(t *testing.T, dir string, absent []string) {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, rel)
		name := d.Name()
		if strings.Contains(name, ".tmp") {
			t.Errorf("temporary file left: %s", rel)
		}
		for _, a := range absent {
			if name == a {
				t.Errorf("an interrupted run left a result: %s", rel)
			}
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch filepath.Ext(name) {
		case ".csv":
			r := csv.NewReader(bytes.NewReader(b))
			if _, err := r.ReadAll(); err != nil {
				t.Errorf("%s: not a complete CSV file: %v", rel, err)
			}
			if len(b) > 0 && b[len(b)-1] != '\n' {
				t.Errorf("%s: last line unterminated", rel)
			}
		case ".json":
			if !json.Valid(b) {
				t.Errorf("%s: not a complete JSON file", rel)
			}
		case ".yaml", ".yml":
			var v any
			if err := yaml.Unmarshal(b, &v); err != nil {
				t.Errorf("%s: not a complete YAML file: %v", rel, err)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	t.Logf("files left in %s: %v", filepath.Base(dir), files)
}
