package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// TestCalibrateAndImportFromDump: the user's path without network access: simulate a
// known service, dump its series as OpenMetrics, calibrate from the dump and import
// its traffic; the config written loads with sim --config and the trace with the
// file loaders.
func TestCalibrateAndImportFromDump(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "true.yaml")
	if err := os.WriteFile(cfgFile, []byte("service_time: {kind: exponential, mean: 0.05}\nconcurrency: 2\nscrape_interval: 5s\nstartup_delay: {kind: constant, mean: 20}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rates := make([]float64, 120)
	for i := range rates {
		rates[i] = 8
		if i%40 >= 20 && i%40 < 30 {
			rates[i] = 90
		}
	}
	trFile := filepath.Join(dir, "surge.csv")
	var csv bytes.Buffer
	if err := traces.WriteCSV(&csv, &traces.Trace{Name: "surge", Bucket: time.Minute, Rates: rates}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trFile, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(dir, "run.om")
	var out, errb bytes.Buffer
	if code := run([]string{"sim", "--trace", trFile, "--config", cfgFile, "--policy", "threshold", "--openmetrics", dump, "--timeline", ""}, &out, &errb); code != 0 {
		t.Fatalf("sim: exit %d: %s", code, errb.String())
	}
	fitted := filepath.Join(dir, "fitted.yaml")
	errb.Reset()
	if code := run([]string{"calibrate", "--dump", dump, "--out", fitted}, &out, &errb); code != 0 {
		t.Fatalf("calibrate: exit %d: %s", code, errb.String())
	}
	f, err := os.Open(fitted)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sim.DecodeConfig(f, fitted)
	f.Close()
	if err != nil {
		t.Fatalf("the calibrated config does not load: %v", err)
	}
	if c.ServiceTime.Kind != sim.Exponential || c.Concurrency != 2 {
		t.Errorf("calibrated %+v, want exponential with 2 slots", c)
	}
	errb.Reset()
	if code := run([]string{"sim", "--trace", trFile, "--config", fitted, "--policy", "threshold", "--timeline", filepath.Join(dir, "timeline.csv")}, &out, &errb); code != 0 {
		t.Errorf("sim --config calibrated: exit %d: %s", code, errb.String())
	}
	imported := filepath.Join(dir, "imported.csv")
	if code, _, errs := runTraceCmd("import", "--dump", dump, "--step", "1m", "--out", imported); code != 0 {
		t.Fatalf("trace import --dump: exit %d: %s", code, errs)
	}
	got, err := traces.LoadFile(imported, traces.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tot, want := got.Total(), 60*(90*8.0+30*90); tot < 0.9*want || tot > 1.05*want {
		t.Errorf("imported %.0f requests, replayed %.0f", tot, want)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"calibrate", "--dump", dump, "--prometheus", "http://x"}, "exactly one of"},
		{[]string{"calibrate", "--prometheus", "http://127.0.0.1:1"}, "--start is required"},
		{[]string{"calibrate", "--prometheus", "http://127.0.0.1:1", "--start", "now-1h"}, "127.0.0.1:1"},
		{[]string{"calibrate", "--dump", dump, "--out", dump}, "refusing to overwrite"},
		{[]string{"calibrate", "--dump", dump, "--start", "yesterday"}, "--start"},
		{[]string{"calibrate", "--dump", dump, "--end", "now-10000d"}, "not after"},
		{[]string{"trace", "import", "--dump", dump, "--in", trFile}, "exclusive"},
		{[]string{"trace", "import", "--dump", dump, "--query", "http_requests_total"}, "where one was expected"},
		{[]string{"trace", "import", "--dump", dump, "--out", dump}, "refusing to overwrite"},
	} {
		errb.Reset()
		if code := run(c.args, &out, &errb); code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error containing %q", c.args, code, errb.String(), c.want)
		}
	}
	if b, _ := os.ReadFile(dump); !bytes.HasSuffix(b, []byte("# EOF\n")) {
		t.Error("the dump was damaged")
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now":                  now,
		"now-7d":               now.Add(-7 * 24 * time.Hour),
		"now-90m":              now.Add(-90 * time.Minute),
		"2026-03-02T00:00:00Z": time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		"1772409600":           time.Unix(1772409600, 0).UTC(),
		"1772409600.5":         time.UnixMilli(1772409600500).UTC(),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "now+1h", "now-x", "now--1d", "-5", "March"} {
		if _, err := parseWhen(bad, now); err == nil {
			t.Errorf("parseWhen(%q): no error", bad)
		}
	}
}

// TestCalibrateAfterScaleUps: under KPA on on/off traffic, intervals that end with
// replicas just added to a queue are not quiet ones (utilisation counts the fewest
// slots ready in the interval): one slot per replica with exponential service is
// fitted exponential, its histogram's response time close to its service time, not
// a queue's wide lognormal.
func TestCalibrateAfterScaleUps(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "true.yaml")
	if err := os.WriteFile(cfg, []byte("service_time: {kind: exponential, mean: 0.5}\nconcurrency: 1\nmax_replicas: 200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dump := simDump(t, dir, "kpa.om", "--builtin", "onoff", "--length", "3h", "--scale-mean", "20", "--policy", "kpa", "--config", cfg)
	fitted := filepath.Join(dir, "fitted.yaml")
	var so, se bytes.Buffer
	if code := run([]string{"calibrate", "--dump", dump, "--out", fitted}, &so, &se); code != 0 || strings.Contains(se.String(), "warning") {
		t.Fatalf("calibrate: exit %d: %s", code, se.String())
	}
	f, err := os.Open(fitted)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := sim.DecodeConfig(f, fitted)
	if err != nil {
		t.Fatal(err)
	}
	if c.ServiceTime.Kind != sim.Exponential || c.Concurrency != 1 {
		t.Errorf("calibrated %+v, want exponential with 1 slot", c.ServiceTime)
	}
}

// TestCalibrateStartupFromSimDump: the simulator's own dump, whose replicas carry no
// start and ready gauges, calibrates back to its 30 s start-up under hpa and kpa,
// scraped every 15 s (the default) and every 5 s: not short by half a scrape
// interval.
func TestCalibrateStartupFromSimDump(t *testing.T) {
	dir := t.TempDir()
	fast := filepath.Join(dir, "scrape5s.yaml")
	if err := os.WriteFile(fast, []byte("scrape_interval: 5s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"hpa", []string{"--policy", "hpa"}},
		{"hpa-scrape5s", []string{"--policy", "hpa", "--config", fast}},
		{"kpa", []string{"--policy", "kpa"}},
	} {
		dump := simDump(t, dir, c.name+".om", append([]string{"--builtin", "bursty", "--length", "24h", "--scale-mean", "20"}, c.args...)...)
		fitted := filepath.Join(dir, c.name+".yaml")
		var so, se bytes.Buffer
		if code := run([]string{"calibrate", "--dump", dump, "--step", "20s", "--out", fitted}, &so, &se); code != 0 {
			t.Fatalf("%s: calibrate: exit %d: %s", c.name, code, se.String())
		}
		f, err := os.Open(fitted)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := sim.DecodeConfig(f, fitted)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.StartupDelay.Mean; got != sim.DefaultStartupDelay {
			y, _ := os.ReadFile(fitted)
			t.Errorf("%s: start-up delay %v s, the simulator's %v s\n%s", c.name, got, sim.DefaultStartupDelay, y)
		}
		// The dump carries the queue bound and the timeout as the live app's
		// does, so that they are read, not defaulted.
		y, _ := os.ReadFile(fitted)
		if !bytes.Contains(y, []byte("# app_queue_capacity;")) || !bytes.Contains(y, []byte("# app_request_timeout_seconds;")) ||
			cfg.Queue() != sim.DefaultQueueCapacity || cfg.Timeout != sim.DefaultTimeout {
			t.Errorf("%s: queue and timeout not read from the dump:\n%s", c.name, y)
		}
	}
}
