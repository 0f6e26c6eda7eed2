package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the command in a child process: with
// INTELLISCALE_TEST_MAIN set, the test binary is the intelliscale binary.
func TestMain(m *testing.M) {
	if args := os.Getenv("INTELLISCALE_TEST_MAIN"); args != "" {
		os.Exit(run(strings.Fields(args), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// A long-running live component stops cleanly on SIGTERM: exit status 0, having
// served until then.
func TestLiveComponentsExitOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, tc := range []struct {
		name string
		args func(addr string) string
		path string
	}{
		{"app", func(a string) string { return "live app --listen " + a + " --drain-grace 1s" }, "/healthz"},
		{"lb", func(a string) string { return "live lb --listen " + a + " --service app.invalid" }, "/healthz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "INTELLISCALE_TEST_MAIN="+tc.args(addr))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			if err := waitHTTP("http://"+addr+tc.path, done); err != nil {
				cmd.Process.Kill()
				t.Fatalf("%s never answered: %v\n%s", tc.name, err, stderr.String())
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
				}
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 20 s after SIGTERM\n%s", stderr.String())
			}
		})
	}
}

// The controller stops cleanly on SIGTERM even while it waits for Prometheus.
func TestControllerExitsOnSIGTERMWhileWaiting(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "INTELLISCALE_TEST_MAIN=live controller --project p --prometheus http://127.0.0.1:1 --listen "+freeAddr(t))
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for i := 0; !strings.Contains(stderr.String(), "waiting for Prometheus"); i++ {
		if i == 400 {
			cmd.Process.Kill()
			t.Fatalf("controller never waited for Prometheus:\n%s", stderr.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still running 20 s after SIGTERM")
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitHTTP polls url until it answers (any status) or the process ends.
func waitHTTP(url string, exited <-chan error) error {
	c := &http.Client{Timeout: time.Second}
	for i := 0; i < 200; i++ {
		select {
		case err := <-exited:
			return fmt.Errorf("process exited: %v", err)
		default:
		}
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("timed out")
}
