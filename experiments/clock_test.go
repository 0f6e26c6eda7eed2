package experiments

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/experiments/train"
	"github.com/intelliscale/intelliscale/internal/testpolicy"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// clockFiles writes three days of per-minute rates twice into dir: as offsets from
// the start of the file (seconds, no wall clock) and stamped from midnight of the
// day the environment gives a trace without timestamps (train.Epoch). It returns
// their paths.
func clockFiles(t *testing.T, dir string) (offsets, stamped string) {
	t.Helper()
	var o, s strings.Builder
	o.WriteString("seconds,rate\n")
	s.WriteString("timestamp,rate\n")
	midnight := train.Epoch(nil, 0)
	for m := range 3 * 24 * 60 {
		r := 20 + 15*math.Sin(2*math.Pi*float64(m)/(24*60))
		fmt.Fprintf(&o, "%d,%.3f\n", 60*m, r)
		fmt.Fprintf(&s, "%s,%.3f\n", midnight.Add(time.Duration(m)*time.Minute).Format(time.RFC3339), r)
	}
	offsets, stamped = filepath.Join(dir, "offsets.csv"), filepath.Join(dir, "stamped.csv")
	for p, body := range map[string]string{offsets: o.String(), stamped: s.String()} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return offsets, stamped
}

// The trace an experiment loads from a file without timestamps cropped with start:
// starts at midnight plus the crop, rounded down to a whole bucket as the crop is
// (after a resample), as sim --start counts it; one with timestamps keeps its own.
// A crop of whole days, or none, leaves it without a start: its time of day is
// midnight's already, and its runs and training hashes stay those of before (the
// benchmark configs crop so).
func TestLoadTraceKeepsTheClockOfTheFile(t *testing.T) {
	offsets, stamped := clockFiles(t, t.TempDir())
	midnight := train.Epoch(nil, 0)
	for _, c := range []struct {
		file            string
		start, resample time.Duration
		want            time.Time
	}{
		{offsets, 19 * time.Hour, 0, midnight.Add(19 * time.Hour)},
		{offsets, 19*time.Hour + 90*time.Second, 0, midnight.Add(19*time.Hour + time.Minute)},
		{offsets, 19*time.Hour + 7*time.Minute, 5 * time.Minute, midnight.Add(19*time.Hour + 5*time.Minute)},
		{offsets, 43 * time.Hour, 0, midnight.Add(43 * time.Hour)},
		{offsets, 0, 0, time.Time{}},
		{offsets, 24 * time.Hour, 0, time.Time{}},
		{offsets, 48 * time.Hour, 0, time.Time{}},
		{stamped, 19 * time.Hour, 0, midnight.Add(19 * time.Hour)},
		{stamped, 48 * time.Hour, 0, midnight.Add(48 * time.Hour)},
		{stamped, 0, 0, midnight},
	} {
		spec := TraceSpec{Name: "day", Source: traces.Source{File: c.file, Start: c.start, Length: time.Hour, Resample: c.resample}}
		tr, err := loadTrace(spec)
		if err != nil {
			t.Fatalf("%s from %v: %v", filepath.Base(c.file), c.start, err)
		}
		if !tr.Start.Equal(c.want) {
			t.Errorf("%s from %v (resample %v): starts at %v, want %v", filepath.Base(c.file), c.start, c.resample, tr.Start, c.want)
		}
	}
}

// clockLearner is fakeLearner keeping the wall clock of every window it is given:
// the training windows' (as the environment starts them: env.TraceEpoch), the
// validation windows' (as checkpoint selection does: train.ValidationWindow, at
// Epoch(Whole, Offset)) and the evaluated windows' (as a policy file runs there:
// train.Epoch of the evaluation context), by window start in the crop.
type clockLearner struct {
	fakeLearner
	mu                     sync.Mutex
	trained, valid, evalAt map[time.Duration]time.Time
}

func (l *clockLearner) Train(ctx context.Context, job TrainJob) error {
	l.mu.Lock()
	for i, w := range job.Traces {
		l.trained[job.Offsets[i]] = train.Epoch(w, 0)
	}
	for _, v := range validationWindows(job.Validation) {
		l.valid[v.Offset] = train.Epoch(v.Whole, v.Offset)
	}
	l.mu.Unlock()
	return l.fakeLearner.Train(ctx, job)
}

func (l *clockLearner) Autoscaler(dirs []string, spec PolicySpec, ec EvalContext) (sim.Autoscaler, error) {
	l.mu.Lock()
	l.evalAt[ec.Start] = train.Epoch(ec.Trace, ec.Start)
	l.mu.Unlock()
	return l.fakeLearner.Autoscaler(dirs, spec, ec)
}

// Every window of an experiment's trace from a file without timestamps cropped at
// 19h runs from 19:00 plus its offset in the crop, whether a policy trains on it,
// selects a checkpoint on it or is evaluated on it: the time of day counts from
// the start of the file, as sim --start's does. They used to run from midnight
// plus their offset (the crop's start taken for midnight).
func TestExperimentWindowsRunOnTheFilesClock(t *testing.T) {
	offsets, _ := clockFiles(t, t.TempDir())
	f := &fakeBackend{}
	b := f.backend()
	b.LoadTrace = loadTrace
	rec := &clockLearner{fakeLearner: fakeLearner{f}, trained: map[time.Duration]time.Time{}, valid: map[time.Duration]time.Time{}, evalAt: map[time.Duration]time.Time{}}
	b.Learners[kindPPO] = rec
	cfg, err := Parse([]byte(strings.Replace(clockConf, "FILE", offsets, 1)), "clock.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Runner{Config: cfg, Out: t.TempDir(), Backend: b, Workers: 2}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) time.Time { return train.Epoch(nil, 19*time.Hour+d) }
	for _, c := range []struct {
		what string
		got  map[time.Duration]time.Time
		want map[time.Duration]time.Time
	}{
		{"training window", rec.trained, map[time.Duration]time.Time{0: at(0)}},
		{"validation window", rec.valid, map[time.Duration]time.Time{3 * time.Hour: at(3 * time.Hour)}},
		{"evaluated window", rec.evalAt, map[time.Duration]time.Time{3 * time.Hour: at(3 * time.Hour), 4 * time.Hour: at(4 * time.Hour)}},
	} {
		if len(c.got) != len(c.want) {
			t.Errorf("%ss at %v, want %v", c.what, c.got, c.want)
		}
		for off, want := range c.want {
			if got := c.got[off]; !got.Equal(want) {
				t.Errorf("%s at %v in the crop: runs from %v, want %v", c.what, off, got, want)
			}
		}
	}
}

// clockConf crops a file at 19h and trains, selects and evaluates a small PPO,
// whose observation holds the time of day, on its windows, beside a policy file
// that decides by the time of day alone.
const clockConf = `name: clock
seeds: [1]
sim: {max_replicas: 20}
traces:
  - name: day
    file: FILE
    start: 19h
    length: 5h
    windows:
      train: {start: 0h, end: 3h}
      validation: {start: 3h, end: 4h}
      test: {start: 4h, end: 5h}
policies:
  - name: ppo
    kind: ppo
` + tinyPPOTrain + `        selection: {every: 128}
`

// writeClockPolicy writes a policy file that decides by the time of day alone:
// two replicas more while its sine is positive (midnight to noon), two fewer
// while it is negative.
func writeClockPolicy(t *testing.T, path string) {
	t.Helper()
	p := testpolicy.Clock()
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
}

// An experiment's windows of a file without timestamps cropped at 19h run as the
// same rates stamped from midnight do: a learned policy trains on the same
// episodes, selects the same checkpoint and scores the same figures, and a policy
// file deciding by the time of day alone the same, so every file of the two runs
// but the config's copy is the same (the wall clock's steps_per_second aside).
func TestCroppedFileWithoutTimestampsKeepsItsTimeOfDay(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two small policies")
	}
	dir := t.TempDir()
	offsets, stamped := clockFiles(t, dir)
	writeClockPolicy(t, filepath.Join(dir, "clock.json"))
	conf := clockConf + "  - {name: clock, kind: ppo, file: clock.json}\n"
	run := func(file string) string {
		t.Helper()
		path := filepath.Join(dir, "clock.yaml")
		if err := os.WriteFile(path, []byte(strings.Replace(conf, "FILE", file, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(file), ".csv"))
		if _, err := (&Runner{Config: cfg, Out: out, Backend: DefaultBackend(), Workers: 2}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := run(offsets), run(stamped)
	compared := map[string]bool{}
	err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		if rel == "config.yaml" || filepath.Base(rel) == "checkpoint.bin" {
			// The config names the trace file; a checkpoint holds the length of
			// progress.csv, which the wall clock's steps_per_second sets.
			return nil
		}
		x, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if filepath.Base(rel) == "progress.csv" {
			x, y = withoutLastColumn(x), withoutLastColumn(y) // steps_per_second: wall clock
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between the file without timestamps and the stamped one:\n%.600s\nagainst\n%.600s", rel, x, y)
		}
		compared[filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"train/ppo__1/policy.json", "train/ppo__1/progress.csv", "train/ppo__1/selection.csv",
		"cells/day__ppo__1__test/timeline.csv", "cells/day__clock__1__test/metrics.json", "cells/day__clock__1__test/timeline.csv"} {
		if !compared[f] {
			t.Errorf("no %s compared", f)
		}
	}
}

// withoutLastColumn drops the last column of every line of a CSV file.
func withoutLastColumn(csv []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(csv, []byte("\n")) {
		if i := bytes.LastIndexByte(line, ','); i >= 0 {
			line = line[:i]
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}
