package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/env/features"
)

// writeLinearPolicy saves, in dir/name, a policy of the default features whose
// network, without a hidden layer or a normaliser, scores action i as weights[i]
// times the ready feature (ready replicas / 10, unclipped) plus weights[i] times the
// utilisation when all is set, and returns its path.
func writeLinearPolicy(t *testing.T, dir, name, mode string, actions []int, weights []float64, all bool) string {
	t.Helper()
	spec := features.Default(0.5)
	in, out := len(spec.Features), len(actions)
	ready, util := slices.Index(spec.Names(), "ready"), slices.Index(spec.Names(), "utilisation")
	params := make([]float64, in*out+out)
	for i, w := range weights {
		params[i*in+ready] = w
		if all {
			params[i*in+util] = w
		}
	}
	p := &policy.Policy{
		Version: policy.Version, Algorithm: "ppo",
		Network:  policy.Network{Sizes: []int{in, out}, Activation: "identity", Params: params},
		Features: spec, Actions: actions, ActionMode: mode,
		Sim: policy.SimInfo{ControlIntervalSeconds: 15, ScrapeIntervalSeconds: 15, SLOLatencySeconds: 0.5, SLOTarget: 0.95,
			MinReplicas: 1, MaxReplicas: 50, Concurrency: 4},
		Training: policy.TrainingInfo{Steps: 1, Episodes: 1, ConfigHash: "sha256:00", Traces: []string{"step"}},
	}
	path := filepath.Join(dir, name)
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A policy file whose network's parameters, each finite, overflow together is
// refused by sim and by export --check, naming the file.
func TestSimRefusesAnOverflowingPolicy(t *testing.T) {
	dir := t.TempDir()
	p5 := writeLinearPolicy(t, dir, "p5.json", "", []int{0, 1}, []float64{1e308, 1e308}, true)
	want := p5 + ": policy: network: score -Inf for action 0 on every feature at the low end of its range: its parameters, each finite, overflow together, and it cannot decide"
	code, _, errs := runCmd("sim", "--builtin", "step", "--length", "30m", "--timeline", "", "--policy-file", p5)
	if code == 0 || strings.TrimSpace(errs) != "intelliscale sim: "+want {
		t.Errorf("sim: exit %d, stderr %q\nwant %q", code, errs, want)
	}
	code, _, errs = runCmd("export", "--check", p5)
	if code == 0 || !strings.Contains(errs, want) {
		t.Errorf("export --check: exit %d, stderr %q", code, errs)
	}
}

// A network that overflows on an observation of the run, past the probes of
// loading, stops the run at that decision, naming the file and the interval, and
// writes nothing.
func TestSimStopsAtANonFiniteScore(t *testing.T) {
	dir := t.TempDir()
	// Action 1 (+5 replicas) scores 1e308 x ready/10: it wins until 18 replicas
	// are ready, and overflows from then on.
	path := writeLinearPolicy(t, dir, "grow.json", "", []int{0, 5}, []float64{0, 1e308}, false)
	tl := filepath.Join(dir, "tl.csv")
	code, out, errs := runCmd("sim", "--builtin", "step", "--length", "1h", "--timeline", tl, "--policy-file", path)
	// When: the replicas asked for start up in a constant 30 s, so the count is the same every run.
	want := "intelliscale sim: " + path + ": the network's scores are not all finite at the decision 1m30s into the run (the end of control interval 6): its parameters overflow on that observation, and it cannot decide; the run is stopped, nothing written\n"
	if code == 0 || errs != want {
		t.Errorf("exit %d, stderr %q\nwant %q", code, errs, want)
	}
	if out != "" {
		t.Errorf("a stopped run printed a summary: %q", out)
	}
	if _, err := os.Stat(tl); !os.IsNotExist(err) {
		t.Errorf("a stopped run wrote %s (%v)", tl, err)
	}
}

// A policy file run on a service other than the one it was trained on says so,
// one line per setting; a control interval other than the trained one is still
// refused; min_replicas 0 with a target-mode policy is said to be a trap.
func TestSimWarnsOfAPolicyTrainedElsewhere(t *testing.T) {
	dir := t.TempDir()
	path := writeLinearPolicy(t, dir, "hold.policy.json", env.ActionTarget, []int{40, 60}, []float64{0, 0}, false)
	cfg := writeFile(t, filepath.Join(dir, "sim.yaml"), "slo: {latency: 400ms}\nmax_replicas: 80\nconcurrency: 8\n")
	code, _, errs := runCmd("sim", "--builtin", "step", "--length", "30m", "--timeline", "", "--policy-file", path, "--config", cfg)
	want := fmt.Sprintf("sim: warning: %[1]s was trained with slo.latency 500ms, this run has 400ms\n"+
		"sim: warning: %[1]s was trained with max_replicas 50, this run has 80\n"+
		"sim: warning: %[1]s was trained with concurrency 4, this run has 8\n", path)
	if code != 0 || errs != want {
		t.Errorf("exit %d, stderr %q\nwant %q", code, errs, want)
	}
	code, _, errs = runCmd("sim", "--builtin", "step", "--length", "30m", "--timeline", "", "--policy-file", path)
	if code != 0 || errs != "" {
		t.Errorf("on its own service: exit %d, stderr %q; want nothing said", code, errs)
	}

	writeFile(t, cfg, "control_interval: 30s\n")
	code, _, errs = runCmd("sim", "--builtin", "step", "--length", "30m", "--timeline", "", "--policy-file", path, "--config", cfg)
	if code == 0 || !strings.Contains(errs, "policy trained at a control interval of 15s, simulator runs 30s") {
		t.Errorf("control interval 30s: exit %d, stderr %q; want it refused", code, errs)
	}

	writeFile(t, cfg, "min_replicas: 0\n")
	code, _, errs = runCmd("sim", "--builtin", "step", "--length", "30m", "--timeline", "", "--policy-file", path, "--config", cfg)
	if code != 0 || !strings.Contains(errs, "sim: warning: min_replicas is 0, and "+path+" (action mode target) cannot scale up from zero replicas") {
		t.Errorf("min_replicas 0: exit %d, stderr %q", code, errs)
	}
}

// A rule that cannot scale up from zero replicas, run with min_replicas 0, is
// said to be one before the run; one that can is not.
func TestSimWarnsOfNoScaleFromZero(t *testing.T) {
	cfg := writeFile(t, filepath.Join(t.TempDir(), "m0.yaml"), "min_replicas: 0\n")
	for policy, want := range map[string]bool{"hpa": true, "threshold": true, "kpa": false, "predictive": false} {
		code, _, errs := runCmd("sim", "--builtin", "step", "--length", "30m", "--timeline", "", "--policy", policy, "--config", cfg)
		got := strings.Contains(errs, "sim: warning: min_replicas is 0, and policy "+policy+" cannot scale up from zero replicas: ")
		if code != 0 || got != want {
			t.Errorf("%s: exit %d, stderr %q; want the warning: %v", policy, code, errs, want)
		}
	}
}

// An SLO the service time alone misses is said as such, not blamed on
// max_replicas.
func TestSimSaysTheSLOIsUnattainable(t *testing.T) {
	cfg := writeFile(t, filepath.Join(t.TempDir(), "s4.yaml"), "slo: {latency: 100ms, target: 0.99}\n")
	code, _, errs := runCmd("sim", "--builtin", "step", "--length", "30m", "--timeline", "", "--config", cfg)
	want := "sim: warning: the SLO (99% within 100ms) cannot be met at any replica count: 37% of service times alone exceed 100ms\n"
	if code != 0 || errs != want {
		t.Errorf("exit %d, stderr %q\nwant %q", code, errs, want)
	}
}

// A run without a request says so, and shows no latency rather than NaN; a run
// with a long stretch of none says that, as trace info does.
func TestSimWarnsOfNoTraffic(t *testing.T) {
	dir := t.TempDir()
	var idle, gap strings.Builder
	idle.WriteString("seconds,rate\n")
	gap.WriteString("seconds,rate\n")
	for i := range 120 {
		fmt.Fprintf(&idle, "%d,0\n", 60*i)
		rate := 5
		if i >= 30 && i < 75 {
			rate = 0
		}
		fmt.Fprintf(&gap, "%d,%d\n", 60*i, rate)
	}
	code, out, errs := runCmd("sim", "--trace", writeFile(t, filepath.Join(dir, "idle.csv"), idle.String()), "--timeline", "")
	want := "sim: warning: trace idle has no request in all 2h simulated: the figures are those of an idle service; missing data or an outage? Pick another window (--start, --length)\n"
	if code != 0 || errs != want {
		t.Errorf("no traffic: exit %d, stderr %q\nwant %q", code, errs, want)
	}
	if !strings.Contains(out, "│ latency p50 / p95 / p99                     │ n/a ") || strings.Contains(out, "NaN") {
		t.Errorf("no traffic: summary\n%s\nwant latency n/a", out)
	}
	code, out, errs = runCmd("sim", "--trace", writeFile(t, filepath.Join(dir, "gap.csv"), gap.String()), "--timeline", "")
	want = "sim: warning: trace gap has no request for 45m0s from 30m0s in (45 zero buckets in all): missing data or an outage? Buckets between two rows are read as no traffic; crop around it (--start, --length) if it is missing data\n"
	if code != 0 || errs != want {
		t.Errorf("a gap: exit %d, stderr %q\nwant %q", code, errs, want)
	}
	if !strings.Contains(out, " ms ") || strings.Contains(out, "n/a") {
		t.Errorf("a gap: summary\n%s\nwant latencies", out)
	}
}

// A predictive season the run is too short to learn is said, by the policy.
func TestSimWarnsOfALongSeason(t *testing.T) {
	code, _, errs := runCmd("sim", "--builtin", "diurnal-weekly", "--length", "12h", "--scale-mean", "2", "--timeline", "",
		"--policy", "predictive", "--params", "season: 1000h")
	want := "sim: warning: policy predictive: season 1000h is not shorter than the run (12h): "
	if code != 0 || !strings.HasPrefix(errs, want) {
		t.Errorf("exit %d, stderr %q\nwant %q...", code, errs, want)
	}
}

// A run left at its default start (min_replicas Ready) on traffic that needs far
// more says so and how to start warm; a warm start given, or traffic the start
// carries, says nothing of it.
func TestSimWarnsOfAColdStart(t *testing.T) {
	dir := t.TempDir()
	warm := filepath.Join(dir, "warm.yaml")
	if err := os.WriteFile(warm, []byte("initial_replicas: 11\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--scale-mean", "400"}, true},
		{[]string{"--scale-mean", "400", "--config", warm}, false},
		{[]string{"--scale-mean", "20"}, false},
	} {
		args := append([]string{"sim", "--builtin", "step", "--length", "1h", "--timeline", ""}, tc.args...)
		code, _, errs := runCmd(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errs)
		}
		full := strings.Contains(errs, "sim: warning: the run starts cold, 1 Ready, where the first bucket's 423 requests/s needs 11: ") &&
			strings.Contains(errs, "initial_replicas: 11 in a --config file starts it warm")
		if tc.want && !full || !tc.want && strings.Contains(errs, "starts cold") {
			t.Errorf("%v: stderr %q; want the cold-start warning: %v", tc.args, errs, tc.want)
		}
	}
}
