package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/promtest"
)

// TestCalibrateBadInput: bad flag values and dumps that cannot give a window fail
// before any fit, naming the flag (as typed) or the file, and write nothing.
func TestCalibrateBadInput(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "d.txt")
	if err := os.WriteFile(dump, []byte("x 1 1000\nx 2 61000\nx 3 181000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	instant := filepath.Join(dir, "instant.txt")
	if err := os.WriteFile(instant, []byte("x 1 1000\ny 2 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "fitted.yaml")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dump", dump, "--step", "0s"}, "--step 0s: must be > 0"},
		{[]string{"--dump", dump, "--step", "-1m"}, "--step -1m0s: must be > 0"},
		{[]string{"--dump", dump, "--step", "2m"}, "--step: 2m: must be > 0 and at most half the window (3m)"},
		{[]string{"--dump", dump, "--low-utilisation", "0"}, "--low-utilisation 0: must be in (0, 1]"},
		{[]string{"--dump", dump, "--min-requests", "-5"}, "--min-requests -5: must be finite and > 0"},
		{[]string{"--dump", dump, "--min-low-requests", "NaN"}, "--min-low-requests NaN: must be finite and > 0"},
		{[]string{"--dump", instant}, instant + ": every sample is at 1970-01-01T00:00:01Z: a dump needs samples over a window"},
		{[]string{"--dump", dump, "--start", "2026-01-01T00:00:00Z", "--end", "2026-01-02T00:00:00Z"}, "the window holds no sample of " + dump + " (1970-01-01T00:00:01Z to 1970-01-01T00:03:01Z)"},
		{[]string{"--dump", dump}, "the dump " + dump + ": calibrate: completed requests"},
	} {
		var so, se bytes.Buffer
		args := append([]string{"calibrate", "--out", out}, c.args...)
		if code := run(args, &so, &se); code == 0 || !strings.Contains(se.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error containing %q", c.args, code, se.String(), c.want)
		}
	}
	// trace import reads the same window: a --step longer than it is named so too.
	if code, _, errs := runTraceCmd("import", "--dump", dump, "--step", "10m", "--out", out); code == 0 ||
		!strings.Contains(errs, "--step: 10m: longer than the window 1970-01-01T00:00:01Z to 1970-01-01T00:03:01Z (3m)") {
		t.Errorf("trace import --step 10m: exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written: %v", out, err)
	}
}

// TestCalibratePrometheusNoAnswer: a server that takes the connection but never
// answers fails within the first request's timeout, not never.
func TestCalibratePrometheusNoAnswer(t *testing.T) {
	srv := promtest.SilentServer(t)
	defer func(d time.Duration) { promPingTimeout = d }(promPingTimeout)
	promPingTimeout = 100 * time.Millisecond
	var so, se bytes.Buffer
	t0 := time.Now()
	code := run([]string{"calibrate", "--prometheus", srv.URL, "--start", "now-1h"}, &so, &se)
	if want := "prometheus " + srv.URL + ": no answer within 100ms"; code == 0 || !strings.Contains(se.String(), want) {
		t.Errorf("exit %d, stderr %q; want an error containing %q", code, se.String(), want)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// simDump runs sim with args and returns the OpenMetrics dump it wrote in dir.
func simDump(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	dump := filepath.Join(dir, name)
	var so, se bytes.Buffer
	if code := run(append(append([]string{"sim"}, args...), "--timeline", "", "--openmetrics", dump), &so, &se); code != 0 {
		t.Fatalf("sim %v: exit %d: %s", args, code, se.String())
	}
	return dump
}

// TestCalibrateBusyTimeOutOfScale: a dump whose busy seconds are a fiftieth of their
// value (the service fitted 50 times too fast) or a thousand times it (utilisation
// above 100%) is refused naming the dump and the figures, and nothing is written; a
// request count flag of 1e300 is printed as such; a service no family fits, or a
// saturated one fitted at --low-utilisation 1, is fitted with a warning giving its
// KS distance (the saturated one with another saying that its requests waited for a
// slot in every interval). The clean dump fits without a warning.
func TestCalibrateBusyTimeOutOfScale(t *testing.T) {
	dir := t.TempDir()
	clean := simDump(t, dir, "clean.om", "--builtin", "step", "--length", "2h", "--scale-mean", "20", "--policy", "static", "--params", "n: 10")
	text, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	// scaled writes the dump with every app_worker_busy_seconds_total value times k.
	scaled := func(name string, k float64) string {
		lines := strings.SplitAfter(string(text), "\n")
		for i, l := range lines {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "app_worker_busy_seconds_total" {
				v, err := strconv.ParseFloat(f[1], 64)
				if err != nil {
					t.Fatal(err)
				}
				lines[i] = fmt.Sprintf("%s %g %s\n", f[0], v*k, f[2])
			}
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	calibrate := func(args ...string) (int, string, string) {
		out := filepath.Join(dir, "fitted.yaml")
		os.Remove(out)
		var so, se bytes.Buffer
		code := run(append([]string{"calibrate", "--out", out}, args...), &so, &se)
		return code, se.String(), out
	}
	if code, errs, _ := calibrate("--dump", clean); code != 0 || strings.Contains(errs, "warning") {
		t.Errorf("clean dump: exit %d, stderr %q", code, errs)
	}
	slow, fast := scaled("slow.om", 1.0/50), scaled("fast.om", 1000)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--dump", slow}, []string{"the dump " + slow + ": calibrate: in the 119 intervals of 1m0s at utilisation <= 0.30 the mean service time 0.002005 s",
			"is 0.02 times the mean response time 0.1002 s (http_request_duration_seconds_sum / _count)", "KS 0.859"}},
		{[]string{"--dump", fast}, []string{"the dump " + fast + ": calibrate: app_worker_busy_seconds_total / app_worker_slots: utilisation above 100% in 119 of 119 intervals of 1m0s (median 4979%, highest 5563%): the busy time exceeds the slot time available"}},
		{[]string{"--dump", clean, "--min-low-requests", "1e300"}, []string{"hold 142333 completed requests: at least 1e+300 are needed"}},
		{[]string{"--dump", clean, "--min-requests", "1e300"}, []string{"holds 143436 completed requests: at least 1e+300 are needed"}},
	} {
		code, errs, out := calibrate(c.args...)
		if code == 0 {
			t.Errorf("%v: exit 0", c.args)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr %q\nwant it to contain %q", c.args, errs, w)
			}
		}
		if regexp.MustCompile(`[0-9]{20}`).MatchString(errs) {
			t.Errorf("%v: a number of 20 digits or more in %q", c.args, errs)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: %s written: %v", c.args, out, err)
		}
	}
	cfg := filepath.Join(dir, "bimodal.yaml")
	if err := os.WriteFile(cfg, []byte("service_time: {kind: empirical, samples: [0.004, 0.4]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bimodal := simDump(t, dir, "bimodal.om", "--builtin", "step", "--length", "2h", "--scale-mean", "20", "--policy", "static", "--params", "n: 10", "--config", cfg)
	want := "calibrate: warning: the dump " + bimodal + ": the lognormal fit to the latency histogram is poor: KS 0.356"
	if code, errs, _ := calibrate("--dump", bimodal); code != 0 || !strings.Contains(errs, want) {
		t.Errorf("two service times: exit %d, stderr %q; want a warning containing %q", code, errs, want)
	}
	// Saturated, with --low-utilisation 1: queueing, not the busy time's units, makes
	// the responses long; fitted with the warnings (every interval waited, and the
	// fit is poor), not refused.
	if err := os.WriteFile(cfg, []byte("service_time: {kind: exponential, mean: 0.5}\nconcurrency: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	saturated := simDump(t, dir, "saturated.om", "--builtin", "step", "--length", "2h", "--scale-mean", "20", "--policy", "static", "--params", "n: 8", "--config", cfg)
	code, errs, _ := calibrate("--dump", saturated, "--low-utilisation", "1")
	for _, want := range []string{
		"calibrate: warning: the dump " + saturated + ": the service-time family is fitted to requests that waited for a slot: of the 115 intervals of 1m0s at utilisation <= 1.00, those whose requests waited at most 2% of the mean service time hold 0 requests",
		"calibrate: warning: the dump " + saturated + ": the lognormal fit to the latency histogram is poor: KS 0.85 (",
	} {
		if code != 0 || !strings.Contains(errs, want) {
			t.Errorf("saturated, --low-utilisation 1: exit %d, stderr %q; want a warning containing %q", code, errs, want)
		}
	}
}
