package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Controller flag values that cannot work are refused naming the flag, before any
// backend, Prometheus or listener is touched: a mode the controller does not have, an
// SLO that is not positive or, for a rule, no bucket bound, an interval outside what
// the simulator accepts, a Prometheus URL that cannot answer (it was retried until
// the start-up timeout), --policy beside --policy-file (one of them was silently
// ignored), and parameters a rule refuses.
func TestLiveControllerRefusesBadFlagsByName(t *testing.T) {
	ctl := func(args ...string) []string {
		return append([]string{"live", "controller", "--prometheus", "http://127.0.0.1:1", "--startup-timeout", "0s"}, args...)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{ctl("--mode", "ENFORCE"), `--mode "ENFORCE": want shadow or enforce`},
		{ctl("--slo", "0s"), "--slo 0s: must be > 0"},
		{ctl("--slo", "-1s", "--policy-file", "p.json"), "--slo -1s: must be > 0"},
		{ctl("--slo", "300ms"), "--slo 300ms: must be a bound of the response-time histogram's buckets"},
		{ctl("--interval", "1ns"), "--interval 1ns: must be from 100ms to 1h"},
		{ctl("--interval", "2h"), "--interval 2h0m0s: must be from 100ms to 1h"},
		{ctl("--prometheus", ""), `--prometheus: prometheus URL "": want http:// or https://`},
		{ctl("--prometheus", "127.0.0.1:9090"), `--prometheus: prometheus URL "127.0.0.1:9090"`},
		{ctl("--policy", "hpa", "--policy-file", "p.json"), "--policy hpa and --policy-file p.json: give one"},
		// The default rule given explicitly beside a file is refused too: it was let
		// through, and the file ran.
		{ctl("--policy", "threshold", "--policy-file", "p.json"), "--policy threshold and --policy-file p.json: give one"},
		{ctl("--policy-file", "p.json", "--policy", "threshold"), "--policy threshold and --policy-file p.json: give one"},
		// An empty value is not given (the Compose file fills in one of the two): the
		// file is loaded, or the rule waits for Prometheus.
		{ctl("--policy=", "--policy-file", "p.json"), "policy file stat p.json: no such file"},
		{ctl("--policy", "hpa", "--policy-file=", "--project", "p"), "policy hpa refused"},
		{ctl("--policy=", "--policy-file=", "--project", "p"), "policy threshold refused"},
		{ctl("--params", "{bad"), `--params "{bad": yaml`},
		{ctl("--params", "{upper: 2}"), "--params of --policy threshold: params.upper: 2"},
		{ctl("--policy", "hpa", "--params", "{upper: 0.7}"), `--params of --policy hpa: line 1: params.upper: unknown key "upper"`},
		// A backend's own flag is checked before anything waits too.
		{ctl("--project", "p", "--drain-grace", "-1s"), "--drain-grace -1s: must be >= 0"},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and %q", tc.args[6:], code, stdout, stderr, tc.want)
		}
	}
}

// A --listen address in use is refused at start, before the backend is opened: the
// controller used to run (and scale, in enforce mode) without /metrics and /healthz
// and report the failure only when it stopped.
func TestLiveControllerListenInUseRefusedAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	code, stdout, stderr := runCmd("live", "controller", "--prometheus", "http://127.0.0.1:1", "--project", "p", "--startup-timeout", "0s", "--listen", addr)
	if code != 1 || !strings.Contains(stderr, "--listen "+addr) || !strings.Contains(stderr, "address already in use") || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and --listen %s: address already in use", code, stdout, stderr, addr)
	}
}

// A load generator whose target answers no request fails (exit status 1) and says
// why; it used to exit 0, after reporting only a count of errors and later a warning.
// When only some requests go unanswered it warns, naming the first error, and exits 0. Limits that used to mean "no limit" when negative,
// a zero timeout (wait for ever) and a target that is not an http URL are refused by
// flag, and the plan names the replay's real span under --max-duration.
func TestLiveLoadgenTargetAndLimits(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(tr, []byte("seconds,rate\n0,10\n60,20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	target := "http://" + down.Addr().String() + "/"
	down.Close() // nothing listens there now: connection refused
	code, stdout, stderr := runCmd("live", "loadgen", "--target", target, "--compression", "600", "--max-requests", "3", tr)
	if code != 1 || !strings.Contains(stderr, "--target "+target+": none of the 3 requests sent was answered") ||
		!strings.Contains(stderr, "connection refused") || !strings.Contains(stdout, "first_error=") {
		t.Errorf("target down: exit %d, stdout %q, stderr %q; want 1, the count and the reason", code, stdout, stderr)
	}
	// One request answered, the others held until the client gives up: a partial
	// failure is a warning.
	var seen atomic.Int32
	release := make(chan struct{})
	partial := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) == 1 {
			return
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	code, stdout, stderr = runCmd("live", "loadgen", "--target", partial.URL+"/", "--compression", "600", "--max-requests", "3", "--timeout", "200ms", tr)
	close(release)
	partial.Close()
	if code != 0 || !strings.Contains(stdout, "sent=3 ") || !strings.Contains(stdout, "ok=1 ") ||
		!strings.Contains(stderr, "warning: --target "+partial.URL+"/: 2 of the 3 requests sent were not answered; the first: ") {
		t.Errorf("partial failure: exit %d, stdout %q, stderr %q; want 0, ok=1 and a warning naming 2 of 3", code, stdout, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-requests", "-1"}, "--max-requests -1: must be >= 0"},
		{[]string{"--max-in-flight", "-5"}, "--max-in-flight -5: must be >= 0"},
		{[]string{"--max-duration", "-1s"}, "--max-duration -1s: must be >= 0"},
		{[]string{"--timeout", "0s"}, "--timeout 0s: must be > 0"},
		{[]string{"--compression", "0"}, "--compression 0: must be a finite number > 0"},
		{[]string{"--rate-scale", "-1"}, "--rate-scale -1: must be a finite number >= 0"},
		{[]string{"--target", "127.0.0.1:8000"}, `--target: URL "127.0.0.1:8000": want http:// or https://`},
		{[]string{"--compression", "1e300", "--rate-scale", "1e300"}, "--compression 1e+300: a bucket of 1m0s would last 0s of wall time"},
		{[]string{"--rate-scale", "1e6"}, "a peak of 1.2e+10 requests per wall second, above the limit"},
	} {
		// Short replays, should a limit not be refused.
		args := append(append([]string{"live", "loadgen", "--target", target, "--compression", "600", "--max-requests", "3"}, tc.args...), tr)
		code, stdout, stderr := runCmd(args...)
		if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	code, stdout, stderr = runCmd("live", "loadgen", "--target", srv.URL+"/", "--compression", "600", "--max-duration", "50ms", tr)
	if code != 0 || !strings.Contains(stdout, "over 50ms to") {
		t.Errorf("--max-duration 50ms: exit %d, stdout %q, stderr %q; want the plan over 50ms", code, stdout, stderr)
	}
}

// The app, the balancer and the probe refuse values that used to become a default
// in silence (an empty --service, --port 0, --refresh 0) or to wait for ever (a
// probe --timeout 0 on a URL that never answers), and name the flag where the
// error named an internal field.
func TestLiveAppLBProbeFlagsByName(t *testing.T) {
	// A balancer given a value it should refuse starts serving; on an address in
	// use it stops at once instead.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen on loopback: %v", err)
	}
	defer busy.Close()
	lb := func(args ...string) []string {
		return append([]string{"live", "lb", "--listen", busy.Addr().String()}, args...)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{lb("--service", ""), `--service "": want the DNS name`},
		{lb("--port", "0"), "--port 0: want a port from 1 to 65535"},
		{lb("--port", "70000"), "--port 70000: want a port from 1 to 65535"},
		{lb("--refresh", "0s"), "--refresh 0s: must be > 0"},
		{lb("--refresh", "-1s"), "--refresh -1s: must be > 0"},
		{lb("--ready-path", "ready"), `--ready-path "ready": must start with /`},
		{[]string{"live", "probe", "--timeout", "0s", "http://127.0.0.1:1/"}, "--timeout 0s: must be > 0"},
		{[]string{"live", "probe", "--timeout", "-1s", "http://127.0.0.1:1/"}, "--timeout -1s: must be > 0"},
		{[]string{"live", "probe", "127.0.0.1:8080/ready"}, `URL "127.0.0.1:8080/ready": want http:// or https://`},
		{[]string{"live", "app", "--service-dist", "normal"}, `--service-dist "normal": want exponential, lognormal or constant`},
		{[]string{"live", "app", "--work", "io"}, `--work "io": want sleep or cpu`},
		{[]string{"live", "app", "--startup-delay", "-1s"}, "--startup-delay -1s: must be >= 0"},
		{[]string{"live", "app", "--service-cv", "NaN"}, "--service-cv NaN: must be a finite number > 0"},
		{[]string{"live", "app", "--service-cv", "+Inf"}, "--service-cv +Inf: must be a finite number > 0"},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and %q", tc.args[1:], code, stdout, stderr, tc.want)
		}
	}
}

// The first SIGINT makes the app drain (it finishes the requests in flight, up to
// --drain-grace); a second one stops it at once. The second used to be ignored, so
// an interactive app serving a long request could not be stopped before its grace.
func TestLiveAppSecondInterruptStopsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "INTELLISCALE_TEST_MAIN=live app --listen "+addr+
		" --service-dist constant --service-mean 1h --timeout 2h --drain-grace 1h")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	if err := waitHTTP("http://"+addr+"/healthz", done); err != nil {
		t.Fatalf("app never answered: %v\n%s", err, stderr.String())
	}
	// One request in service for an hour.
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
		}
	}()
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "\nhttp_requests_in_flight 1") {
				break
			}
		}
		if i == 400 {
			t.Fatal("the request never reached the app")
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for i := 0; !strings.Contains(stderr.String(), "app: draining"); i++ {
		if i == 400 {
			t.Fatalf("no drain after SIGINT:\n%s", stderr.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("still draining 20 s after a second SIGINT\n%s", stderr.String())
	}
}
