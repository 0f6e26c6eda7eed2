package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/experiments"
	"github.com/intelliscale/intelliscale/internal/testpolicy"
)

// A window of a file without timestamps runs from midnight plus its offset in the
// file, as an experiment's window at that offset does: a policy file on
// `--start 19h` of it sees 19:00, exactly as on the same rates stamped from
// midnight, and the OpenMetrics series carry the same times. It used to see 00:00
// (the crop's start taken for midnight).
func TestSimWindowOfAFileWithoutTimestamps(t *testing.T) {
	dir := t.TempDir()
	pol := exportTiny(t, dir, "p", "")
	var offsets, stamped strings.Builder
	offsets.WriteString("seconds,rate\n")
	stamped.WriteString("timestamp,rate\n")
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for m := range 24 * 60 {
		r := 20 + 15*math.Sin(2*math.Pi*float64(m)/(24*60))
		fmt.Fprintf(&offsets, "%d,%.3f\n", 60*m, r)
		fmt.Fprintf(&stamped, "%s,%.3f\n", day.Add(time.Duration(m)*time.Minute).Format(time.RFC3339), r)
	}
	outputs := func(name, body string) (timeline, om string) {
		t.Helper()
		in := filepath.Join(dir, name+".csv")
		if err := os.WriteFile(in, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		tl, omf := filepath.Join(dir, name+"-tl.csv"), filepath.Join(dir, name+".om")
		if code, _, stderr := runCmd("sim", "--trace", in, "--start", "19h", "--length", "2h", "--policy-file", pol,
			"--timeline", tl, "--openmetrics", omf); code != 0 {
			t.Fatalf("sim %s: exit %d: %s", name, code, stderr)
		}
		a, err := os.ReadFile(tl)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(omf)
		if err != nil {
			t.Fatal(err)
		}
		return string(a), string(b)
	}
	tl1, om1 := outputs("offsets", offsets.String())
	tl2, om2 := outputs("stamped", stamped.String())
	if tl1 != tl2 {
		t.Error("the policy decided otherwise on the window of the file without timestamps than on the stamped one")
	}
	if om1 != om2 {
		i := 0
		for i < min(len(om1), len(om2)) && om1[i] == om2[i] {
			i++
		}
		t.Errorf("OpenMetrics series differ from byte %d: %.80q against %.80q", i, om1[i:], om2[i:])
	}
	// 19:00 on 1 January 2024 is 1704135600 Unix seconds.
	if !strings.Contains(om1, " 1704135615") {
		t.Errorf("the first scrape is not stamped 19:00:15: %.300q", om1)
	}
}

// An experiment's cell on a window of a file without timestamps cropped with
// start: is sim --start on the same window of the file: the crop plus the window's
// start, its length, the cell's simulator seed and service. A policy deciding by
// the time of day alone (two replicas more before noon, two fewer after) scores the
// same timeline in both. The experiment used to restart the crop's clock at
// midnight, so that its test window (22:00 to 23:00 in the file) ran from 03:00.
func TestExperimentCellIsSimOfItsWindow(t *testing.T) {
	dir := t.TempDir()
	var body strings.Builder
	body.WriteString("seconds,rate\n")
	for m := range 24 * 60 {
		fmt.Fprintf(&body, "%d,%.3f\n", 60*m, 20+15*math.Sin(2*math.Pi*float64(m)/(24*60)))
	}
	trace := writeFile(t, filepath.Join(dir, "day.csv"), body.String())
	p := testpolicy.Clock()
	pol := filepath.Join(dir, "clock.json")
	if err := p.Save(pol); err != nil {
		t.Fatal(err)
	}
	conf := writeFile(t, filepath.Join(dir, "clock.yaml"), `name: clock
seeds: [1]
warm_start: false
sim: {max_replicas: 20}
traces:
  - name: day
    file: day.csv
    start: 19h
    length: 4h
    windows:
      train: {start: 0h, end: 2h}
      validation: {start: 2h, end: 3h}
      test: {start: 3h, end: 4h}
policies:
  - {name: clock, kind: ppo, file: clock.json}
`)
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCmd("experiment", "run", "--config", conf, "--out", out, "--quiet", "--no-report"); code != 0 {
		t.Fatalf("experiment run: exit %d: %s", code, stderr)
	}
	cell := filepath.Join(out, "cells", "day__clock__1__test")
	data, err := os.ReadFile(filepath.Join(cell, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m experiments.CellMetrics
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(cell, "timeline.csv"))
	if err != nil {
		t.Fatal(err)
	}
	from := 19*time.Hour + time.Duration(m.WindowStart)*time.Second
	length := time.Duration(m.WindowEnd-m.WindowStart) * time.Second
	simCfg := writeFile(t, filepath.Join(dir, "sim.yaml"), "max_replicas: 20\n")
	tl := filepath.Join(dir, "sim-tl.csv")
	if code, _, stderr := runCmd("sim", "--trace", trace, "--start", from.String(), "--length", length.String(),
		"--seed", fmt.Sprint(m.SimSeed), "--config", simCfg, "--policy-file", pol, "--timeline", tl); code != 0 {
		t.Fatalf("sim: exit %d: %s", code, stderr)
	}
	got, err := os.ReadFile(tl)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("sim --start %v --length %v differs from the experiment's cell:\n%.400s\nagainst\n%.400s", from, length, got, want)
	}
}
