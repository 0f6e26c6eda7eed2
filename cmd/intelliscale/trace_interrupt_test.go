package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// A trace import stopped by Ctrl-C while it reads or writes a big trace exits
// promptly with a non-zero status and says nothing was written; the output it
// would have replaced keeps its old content and no temporary file is left.
func TestTraceImportInterrupted(t *testing.T) {
	interruptChild(t, "trace import {big} --out {out}", "intelliscale trace: interrupted; nothing written")
}

// sim stopped by Ctrl-C while it loads a big trace file (or, later, simulates it)
// exits alike, its --timeline untouched.
func TestSimInterruptedWhileLoading(t *testing.T) {
	interruptChild(t, "sim --trace {big} --timeline {out}", "intelliscale sim: interrupted; nothing written")
}

// interruptChild runs the command args ({big}: an 8M-line trace file, {out}: an
// existing output file) in a child process, sends it SIGINT at three points of its
// work, and checks it stops with status 1 and the message want, leaving {out} as it
// was and no temporary file beside it.
func interruptChild(t *testing.T, args, want string) {
	if testing.Short() {
		t.Skip("writes a 16 MB trace and runs a child process")
	}
	dir := t.TempDir()
	big := filepath.Join(dir, "big.txt") // 8M one-second buckets: seconds of work
	if err := os.WriteFile(big, []byte(strings.Repeat("1\n", 8_000_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	old := "seconds,rate\n0,1\n"
	write(t, out, "out.csv", old)

	interrupted := 0
	for _, after := range []float64{0.2, 0.6, 1.0} { // CPU seconds: reading, then (on most machines) writing
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "INTELLISCALE_TEST_MAIN="+strings.NewReplacer("{big}", big, "{out}", filepath.Join(out, "out.csv")).Replace(args))
		stderr := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		finished := false
		for !finished {
			select {
			case err := <-done:
				if err == nil {
					t.Logf("finished before %.1f s of CPU: not interrupted", after)
					finished = true
					continue
				}
				t.Fatalf("exited before the signal: %v\n%s", err, stderr.String())
			case <-time.After(10 * time.Millisecond):
			}
			if cpu, ok := cpuSeconds(cmd.Process.Pid); !ok || cpu >= after {
				break
			}
		}
		if finished {
			write(t, out, "out.csv", old)
			continue
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			if !errors.Is(err, os.ErrProcessDone) {
				t.Fatal(err)
			}
			// It exited, and was reaped, between the last poll and the signal.
			if err := <-done; err != nil {
				t.Fatalf("exited before the signal: %v\n%s", err, stderr.String())
			}
			t.Logf("finished before %.1f s of CPU: not interrupted", after)
			write(t, out, "out.csv", old)
			continue
		}
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("still running 10 s after SIGINT\n%s", stderr.String())
		}
		if err == nil && strings.Contains(stderr.String(), "wrote ") {
			// The signal came as the command was done: its output was already in
			// place, which a late Ctrl-C cannot undo.
			t.Logf("after %.1f s: finished as the signal came: not interrupted", after)
			write(t, out, "out.csv", old)
			continue
		}
		interrupted++
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("after %.1f s: exit %v, want status 1 (stopped by the command, not killed)", after, err)
		}
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("after %.1f s: stderr %q does not say it was interrupted", after, stderr.String())
		}
		if b, _ := os.ReadFile(filepath.Join(out, "out.csv")); string(b) != old {
			t.Errorf("after %.1f s: out.csv changed (%d bytes)", after, len(b))
		}
		if ents, _ := os.ReadDir(out); len(ents) != 1 {
			t.Errorf("after %.1f s: %d files in the output directory, want out.csv alone (no temporary file)", after, len(ents))
		}
	}
	if interrupted == 0 {
		t.Error("no run was interrupted: every one finished before its signal")
	}
}

// traceWrite stopped by its context leaves the file as it was with no temporary
// file beside it, and says so; uncancelled, it writes the whole trace.
func TestTraceWriteCancelled(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.csv")
	write(t, dir, "out.csv", "old")
	tr, err := traces.LoadFile(writeTemp(t, dir, "in.txt", strings.Repeat("3\n", 200_000)), traces.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := traceWrite(ctx, p, tr, nil); !errors.Is(err, errInterrupted) {
		t.Fatalf("cancelled: err = %v, want %v", err, errInterrupted)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("cancelled write changed the file: %d bytes", len(b))
	}
	var stdout strings.Builder
	if err := traceWrite(ctx, "-", tr, &stdout); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("cancelled write to standard output: err = %v", err)
	}
	if err := traceWrite(context.Background(), p, tr, nil); err != nil {
		t.Fatal(err)
	}
	back, err := traces.LoadFile(p, traces.LoadOptions{})
	if err != nil || len(back.Rates) != len(tr.Rates) {
		t.Fatalf("written trace: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("%d files in the directory, want in.txt and out.csv (no temporary file)", len(ents))
	}
}

func writeTemp(t *testing.T, dir, name, data string) string {
	t.Helper()
	write(t, dir, name, data)
	return filepath.Join(dir, name)
}
