package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSimCommand(t *testing.T) {
	dir := t.TempDir()
	tl := filepath.Join(dir, "tl.csv")
	om := filepath.Join(dir, "run.om")
	code, out, errs := runCmd("sim", "--builtin", "step", "--length", "30m", "--policy", "hpa",
		"--params", "target_utilization: 0.7", "--timeline", tl, "--openmetrics", om, "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "trace step, policy hpa (target_utilization: 0.7), seed 3, 120 intervals of 15s") || !strings.Contains(out, "scaling accuracy") {
		t.Fatalf("summary missing:\n%s", out)
	}
	// One line on standard error says what was written where.
	if want := "sim: wrote the timeline to " + tl + " (120 intervals of 15s) and the OpenMetrics series to " + om + "\n"; errs != want {
		t.Errorf("stderr %q, want %q", errs, want)
	}
	b, err := os.ReadFile(tl)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 121 || !strings.HasPrefix(lines[0], "time_s,arrival_rate,") {
		t.Fatalf("timeline: %d lines, header %q; want 121 lines", len(lines), lines[0])
	}
	m, err := os.ReadFile(om)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(m), "# EOF\n") || !strings.Contains(string(m), "http_request_duration_seconds_bucket{") {
		t.Fatalf("openmetrics output malformed (%d bytes)", len(m))
	}

	// Same seed, same timeline bytes; the timeline can go to stdout.
	code, again, errs := runCmd("sim", "--builtin", "step", "--length", "30m", "--policy", "hpa",
		"--params", "target_utilization: 0.7", "--timeline", "-", "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if again != string(b) {
		t.Fatal("same seed gave a different timeline")
	}
	// The timeline on standard output is all there is to say: nothing on stderr.
	if errs != "" {
		t.Errorf("--timeline -: stderr %q, want nothing", errs)
	}
	code, _, errs = runCmd("sim", "--builtin", "step", "--length", "30m", "--timeline", "")
	if code != 0 || errs != "" {
		t.Errorf("--timeline '': exit %d, stderr %q; want nothing written and nothing said", code, errs)
	}
}

func TestSimCommandErrors(t *testing.T) {
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "sim.yaml")
	if err := os.WriteFile(badCfg, []byte("concurrency: 4\nslots: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "keep.csv")
	if err := os.WriteFile(keep, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim"}, "no trace"},
		{[]string{"sim", "--builtin", "nope"}, `no built-in trace "nope"`},
		{[]string{"sim", "--builtin", "step", "--trace", "x.csv"}, "give exactly one of --trace FILE, --builtin NAME and --synth SPEC.yaml"},
		{[]string{"sim", "--builtin", "step", "--length", "-1h"}, "--length: -1h: must be at least 0s"},
		{[]string{"sim", "--builtin", "step", "--scale-mean", "-5"}, "--scale-mean: -5: must be at least 0"},
		{[]string{"sim", "--builtin", "step", "--scale-mean", "NaN"}, "--scale-mean: NaN: must be a finite number"},
		{[]string{"sim", "--builtin", "step", "--from", "100h"}, `--start: 100h: not inside the trace "step" (72h long)`},
		{[]string{"sim", "--trace", filepath.Join(dir, "missing.csv")}, "missing.csv"},
		{[]string{"sim", "--builtin", "step", "--policy", "magic"}, "magic"},
		{[]string{"sim", "--builtin", "step", "--params", "bogus_key: 1"}, "bogus_key"},
		{[]string{"sim", "--builtin", "step", "--config", badCfg, "--timeline", keep}, "slots"},
		{[]string{"sim", "--builtin", "step", "--no-such-flag"}, "no-such-flag"},
		{[]string{"sim", "--builtin", "step", "--policy-file", filepath.Join(dir, "none.json")}, "none.json"},
	} {
		code, _, errs := runCmd(tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want non-zero and %q", tc.args, code, errs, tc.want)
		}
	}
	if b, _ := os.ReadFile(keep); string(b) != "precious" {
		t.Fatalf("a failed run overwrote the timeline file: %q", b)
	}
	if code, _, errs := runCmd("sim", "--help"); code != 0 || !strings.Contains(errs, "-policy string") || !strings.Contains(errs, `(default "hpa")`) {
		t.Fatalf("--help: exit %d, %q", code, errs)
	}
}

// TestSimParamsErrorsNameTheFlag: a bad --params for a rule policy names the flag
// and the policy, as it does for a policy file, with the line in the flag's text.
func TestSimParamsErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		params, want string
	}{
		{"target_utilization: 2", "--params: target_utilization: 2: must be in (0, 1] (policy hpa)"},
		{"headroom_scale: 0.8", `--params: line 1: headroom_scale: unknown key "headroom_scale" (known keys: target_utilization, tolerance, scale_up_stabilization, scale_down_stabilization, scale_up_pods, scale_up_percent, scale_up_period, scale_down_percent, scale_down_period) (policy hpa)`},
		{"target_utilization: [1]", "--params: line 1: target_utilization: a list is not a valid number (policy hpa)"},
		{"- 1", "--params: line 1: must be a mapping (policy hpa)"},
		{"target_utilization: 0.5\ntarget_utilization: 0.6", `--params: line 2: target_utilization: mapping key "target_utilization" already defined at line 1 (policy hpa)`},
	} {
		code, _, errs := runCmd("sim", "--builtin", "step", "--length", "30m", "--policy", "hpa", "--params", tc.params)
		if code == 0 || strings.TrimSpace(errs) != "intelliscale sim: "+tc.want {
			t.Errorf("--params %q: exit %d, stderr %q\nwant %q", tc.params, code, errs, tc.want)
		}
	}
}

// sim warns when max_replicas held the service below its demand, naming the limit
// and the intervals, and says nothing of it when the limit is above the demand.
func TestSimWarnsOfCappedDemand(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		limit string
		want  bool
	}{{"max_replicas: 5\n", true}, {"max_replicas: 300\n", false}} {
		cfg := filepath.Join(dir, "sim.yaml")
		if err := os.WriteFile(cfg, []byte(tc.limit), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCmd("sim", "--builtin", "step", "--length", "1h", "--scale-mean", "400", "--config", cfg, "--timeline", "")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.limit, code, errs)
		}
		got := strings.Contains(errs, "sim: warning: demand exceeds max_replicas 5 in 240 of 240 intervals (up to ") &&
			strings.Contains(errs, "is capped at 5 too, so they understate the shortfall")
		if got != tc.want {
			t.Errorf("%s: stderr %q; want the warning: %v", tc.limit, errs, tc.want)
		}
		// With the timeline on stdout, the warning still goes to stderr.
		code, out, errs := runCmd("sim", "--builtin", "step", "--length", "1h", "--scale-mean", "400", "--config", cfg, "--timeline", "-")
		if got := strings.Contains(errs, "sim: warning: demand exceeds max_replicas 5"); code != 0 || got != tc.want || strings.Contains(out, "warning") {
			t.Errorf("%s, --timeline -: exit %d, stderr %q; want the warning on stderr: %v", tc.limit, code, errs, tc.want)
		}
	}
}

// experiment run refuses a negative --workers before reading the config.
func TestExperimentRefusesNegativeWorkers(t *testing.T) {
	code, _, errs := runCmd("experiment", "run", "--check", "--config", "no-such.yaml", "--workers", "-1")
	if code == 0 || !strings.Contains(errs, "--workers -1: must be >= 0") {
		t.Errorf("exit %d, stderr %q; want --workers refused", code, errs)
	}
}

// An experiment refused by its check (a typo in a learned policy's params) leaves
// no results directory behind, not even the build record.
func TestExperimentRefusedWritesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	bad := tinyExperiment + "  - name: p\n    kind: ppo\n    train:\n      steps: 100\n      params: {ppo: {learnin_rate: 1}}\n"
	if err := os.WriteFile(cfg, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "res")
	code, _, errs := runCmd("experiment", "run", "--quiet", "--config", cfg, "--out", out)
	if code == 0 || !strings.Contains(errs, "learnin_rate") {
		t.Fatalf("exit %d, stderr %q; want the typo refused", code, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s exists after a refused run (%v)", out, err)
	}
}

// The summary's cost row names the price it multiplies the replica-hours by, the
// config's cost_per_replica_hour.
func TestSimSummaryNamesThePrice(t *testing.T) {
	costOf := func(args ...string) (label string, cost float64) {
		t.Helper()
		code, out, errs := runCmd(append([]string{"sim", "--builtin", "step", "--length", "30m", "--timeline", ""}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, l := range strings.Split(out, "\n") {
			if i := strings.Index(l, "cost (replica-hours x "); i >= 0 {
				f := strings.Fields(strings.ReplaceAll(l[i:], "│", " "))
				v, err := strconv.ParseFloat(f[len(f)-1], 64)
				if err != nil {
					t.Fatalf("cost row %q: %v", l, err)
				}
				return strings.Join(f[:len(f)-1], " "), v
			}
		}
		t.Fatalf("no cost row in\n%s", out)
		return "", 0
	}
	label, hours := costOf()
	if label != "cost (replica-hours x 1 per replica-hour)" {
		t.Errorf("default price: label %q", label)
	}
	cfg := filepath.Join(t.TempDir(), "sim.yaml")
	if err := os.WriteFile(cfg, []byte("cost_per_replica_hour: 0.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	label, cost := costOf("--config", cfg)
	if label != "cost (replica-hours x 0.25 per replica-hour)" {
		t.Errorf("price 0.25: label %q", label)
	}
	if math.Abs(cost-hours/4) > 0.01 {
		t.Errorf("price 0.25: cost %.2f, want a quarter of %.2f", cost, hours)
	}
}

// A cropped run's summary says where its window starts in the trace, so that a run
// of the held-out part is not read as one of the whole trace; the crop is rounded out
// to whole buckets (90s of 1-minute buckets starts at 1m and ends at 32m).
func TestSimSummarySaysWhereTheWindowStarts(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--start", "43h12m", "--length", "30m"}, "trace bursty from 43h12m, policy hpa, seed 1, 120 intervals of 15s\n"},
		{[]string{"--start", "90s", "--length", "30m"}, "trace bursty from 1m, policy hpa, seed 1, 124 intervals of 15s\n"},
		{[]string{"--length", "30m"}, "trace bursty, policy hpa, seed 1, 120 intervals of 15s\n"},
	} {
		code, out, errs := runCmd(append([]string{"sim", "--builtin", "bursty", "--timeline", ""}, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errs)
		}
		if first, _, _ := strings.Cut(out, "\n"); first+"\n" != c.want {
			t.Errorf("%v: summary opens %q, want %q", c.args, first, c.want)
		}
	}
}
