package main

import (
	"bytes"
	"os"
	"path/filepath"
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
