package docker

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/promtest"
	"github.com/intelliscale/intelliscale/internal/repo"
	"github.com/moby/moby/client"

	"github.com/intelliscale/intelliscale/live"
)

// TestE2E runs the live stack on the real Docker engine: it replays a compressed trace
// with a surge and checks that the controller scales the app up after the surge and
// back down after it, holds while Prometheus is stopped and recovers when it returns,
// carries on after being killed and restarted, and that tear-down leaves nothing behind.
// It runs only with INTELLISCALE_E2E set (make live-e2e, .ci/run).
func TestE2E(t *testing.T) {
	if os.Getenv("INTELLISCALE_E2E") == "" {
		t.Skip("end-to-end test on the Docker engine: set INTELLISCALE_E2E=1 to run it (make live-e2e)")
	}
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Skip("docker-compose not found: the end-to-end test needs it")
	}
	dc, err := newClient()
	if err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	defer dc.Close()
	pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, err = dc.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true})
	cancel()
	if err != nil {
		t.Skipf("no Docker engine reachable: %v", err)
	}
	begin := time.Now()
	root := repoRoot(t)
	if out, err := exec.Command(filepath.Join(root, "deploy", "build-images.sh")).CombinedOutput(); err != nil {
		t.Fatalf("build images: %v\n%s", err, out)
	}
	t.Logf("images built in %v", time.Since(begin).Round(time.Second))

	const interval = 5 * time.Second
	project := fmt.Sprintf("ise2e%d", os.Getpid())
	env := append(os.Environ(), "COMPOSE_PROJECT_NAME="+project, "IS_INTERVAL="+interval.String(),
		"IS_MIN=1", "IS_MAX=5", "IS_MAX_STEP=2", "IS_POLICY=threshold",
		"IS_POLICY_PARAMS={upper: 0.7, lower: 0.3, cooldown_up: 0s, cooldown_down: 10s}", "IS_POLICY_FILE=",
		"IS_LB_BIND=127.0.0.1:", "IS_PROM_BIND=127.0.0.1:", "IS_CONTROLLER_BIND=127.0.0.1:")
	compose := func(args ...string) *exec.Cmd {
		full := append([]string{"-f", filepath.Join(root, "deploy/docker-compose.yml"), "-f", filepath.Join(root, "deploy/docker-compose.offline.yml")}, args...)
		c := exec.Command("docker-compose", full...)
		c.Env = env
		return c
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := compose(args...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	ctx := context.Background()
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := compose("logs", "--no-color", "--tail=60", "controller").CombinedOutput()
			t.Logf("controller log:\n%s", out)
		}
		if out, err := compose("down", "-v", "--remove-orphans", "-t", "5").CombinedOutput(); err != nil {
			t.Errorf("down: %v\n%s", err, out)
		}
		f := make(client.Filters).Add("label", labelProject+"="+project)
		cs, err := dc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		if err != nil || len(cs.Items) != 0 {
			t.Errorf("after down: %d containers of %s left (err %v)", len(cs.Items), project, err)
		}
		ns, err := dc.NetworkList(ctx, client.NetworkListOptions{Filters: f})
		if err != nil || len(ns.Items) != 0 {
			t.Errorf("after down: %d networks of %s left (err %v)", len(ns.Items), project, err)
		}
		t.Logf("total end-to-end time %v", time.Since(begin).Round(time.Second))
	})
	run("up", "-d")
	port := func(svc, p string) string {
		out := strings.TrimSpace(run("port", svc, p))
		return "http://" + out
	}
	promURL, ctlURL := port("prometheus", "9090"), port("controller", "9100")
	prom, err := live.NewPromQuerier(promURL)
	if err != nil {
		t.Fatal(err)
	}
	appCount := func() int {
		f := make(client.Filters).Add("label", labelProject+"="+project, labelService+"=app").Add("status", "running")
		cs, err := dc.ContainerList(ctx, client.ContainerListOptions{Filters: f})
		if err != nil {
			t.Fatalf("list app containers: %v", err)
		}
		return len(cs.Items)
	}
	waitUntil := func(what string, limit time.Duration, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < limit {
			if cond() {
				return time.Since(start)
			}
			time.Sleep(time.Second)
		}
		t.Fatalf("%s: not within %v", what, limit)
		return 0
	}
	decisions := func(url string) float64 {
		m := scrapeMetrics(url)
		return m[`intelliscale_decisions_total{action="up"}`] + m[`intelliscale_decisions_total{action="down"}`] + m[`intelliscale_decisions_total{action="none"}`]
	}
	waitUntil("controller deciding", 3*time.Minute, func() bool { return decisions(ctlURL) >= 1 })

	// The surge: surge.csv at compression 6 sends 12 req/s, then 84 from 40 s to 90 s,
	// then 12 again until 180 s.
	lg := compose("run", "--rm", "loadgen")
	var lgOut bytes.Buffer
	lg.Stdout, lg.Stderr = &lgOut, &lgOut
	if err := lg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lg.Process.Kill(); _ = lg.Wait() })
	start := time.Now()
	surgeStart, surgeEnd := start.Add(40*time.Second), start.Add(90*time.Second)
	var firstUp time.Time
	peak := 0
	for time.Since(start) < 4*time.Minute {
		n := appCount()
		if n < 1 || n > 5 {
			t.Errorf("%d app replicas: outside [1, 5]", n)
		}
		peak = max(peak, n)
		if n > 1 && firstUp.IsZero() {
			firstUp = time.Now()
		}
		if time.Now().After(surgeEnd) && peak > 1 && n == 1 {
			break
		}
		time.Sleep(time.Second)
	}
	if firstUp.IsZero() || peak < 2 {
		t.Fatalf("never scaled up (peak %d replicas)", peak)
	}
	if firstUp.Before(surgeStart) {
		t.Errorf("scaled up %v before the surge", surgeStart.Sub(firstUp))
	}
	if n := appCount(); n != 1 {
		t.Fatalf("%d replicas 4 minutes after the start: never scaled back down", n)
	}
	t.Logf("surge to first scale-up: %.1f s; peak %d replicas; back to 1 %.1f s after the surge ended",
		firstUp.Sub(surgeStart).Seconds(), peak, time.Since(surgeEnd).Seconds())
	// Prometheus saw the same: the desired count went up and is back at 1.
	now := time.Now()
	if v, err := prom.Query(ctx, `max_over_time(intelliscale_desired_replicas[10m])`, now); err != nil || v < 2 {
		t.Errorf("Prometheus: max desired replicas %v (err %v), want >= 2", v, err)
	}
	if v, err := prom.Query(ctx, `max_over_time(sum(app_worker_slots)[10m:1s])`, now); err != nil || v < 8 {
		t.Errorf("Prometheus: peak ready worker slots %v (err %v), want >= 8 (two replicas of 4)", v, err)
	}

	// Prometheus stopped: the controller holds and counts errors, then recovers.
	before := scrapeMetrics(ctlURL)
	replicas := appCount()
	run("stop", "-t", "2", "prometheus")
	time.Sleep(4 * interval)
	during := scrapeMetrics(ctlURL)
	if d := during[`intelliscale_errors_total{kind="prometheus"}`] - before[`intelliscale_errors_total{kind="prometheus"}`]; d < 2 {
		t.Errorf("Prometheus down for 4 intervals: %v prometheus errors counted, want >= 2", d)
	}
	if d := during[`intelliscale_decisions_total{action="hold"}`] - before[`intelliscale_decisions_total{action="hold"}`]; d < 2 {
		t.Errorf("Prometheus down: %v holds, want >= 2", d)
	}
	if n := appCount(); n != replicas {
		t.Errorf("replicas changed from %d to %d while Prometheus was down", replicas, n)
	}
	run("start", "prometheus")
	held := decisions(ctlURL)
	recovered := waitUntil("decisions after Prometheus returns", 2*time.Minute, func() bool { return decisions(ctlURL) > held })
	t.Logf("Prometheus back: decisions resume after %v", recovered.Round(time.Second))

	// The controller killed and restarted: replicas untouched meanwhile, and the new
	// process carries on from what is running.
	m := scrapeMetrics(ctlURL)
	if c := m["intelliscale_decision_seconds_count"]; c > 0 {
		t.Logf("decision latency: mean %.1f ms over %v decisions", 1000*m["intelliscale_decision_seconds_sum"]/c, c)
	}
	replicas = appCount()
	run("kill", "controller")
	time.Sleep(2 * interval)
	if n := appCount(); n != replicas {
		t.Errorf("replicas changed from %d to %d with the controller dead", replicas, n)
	}
	run("start", "controller")
	ctlURL = port("controller", "9100")
	waitUntil("restarted controller deciding", 3*time.Minute, func() bool { return decisions(ctlURL) >= 1 })
	m = scrapeMetrics(ctlURL)
	if got := m[`intelliscale_replicas{state="ready"}`] + m[`intelliscale_replicas{state="provisioning"}`]; int(got) != appCount() {
		t.Errorf("restarted controller sees %v replicas, the engine runs %d", got, appCount())
	}
	if d := m["intelliscale_desired_replicas"]; d < 1 || d > 5 {
		t.Errorf("restarted controller desired %v: outside [1, 5]", d)
	}
	_ = lg.Process.Kill()
	t.Logf("loadgen (stopped at the end of the test): %s", lastLine(lgOut.String()))
}

// scrapeMetrics reads a /metrics page into a map from series (name{labels}) to value;
// an unreachable page gives an empty map.
func scrapeMetrics(base string) map[string]float64 {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return map[string]float64{}
	}
	defer resp.Body.Close()
	return promtest.Samples(resp.Body)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
