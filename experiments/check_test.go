package experiments

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkBase is a small valid experiment; each case appends or replaces lines.
const checkBase = `name: chk
seeds: [1]
sim:
  max_replicas: 20
traces:
  - name: b
    builtin: bursty
    windows:
      train: {start: 0h, end: 6h}
      validation: {start: 6h, end: 8h}
      test: {start: 8h, end: 10h}
policies:
  - {name: thr, kind: threshold}
`

// TestCheckNamesFileLineAndField feeds the whole-config check (what `experiment
// run --check` and the start of every run do) one bad value at a time, with the
// real backend: every message names the file, the line and the field.
func TestCheckNamesFileLineAndField(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, extra, want string
	}{
		{"typo in rule params", "  - name: h\n    kind: hpa\n    params:\n      target_utilisation: 0.5\n",
			`chk.yaml line 17: policies[1].params.target_utilisation: unknown key "target_utilisation"`},
		{"bad rule param", "  - name: h\n    kind: hpa\n    params: {target_utilization: 1.5}\n",
			"chk.yaml line 16: policies[1].params.target_utilization: 1.5: must be in (0, 1]"},
		{"typo in learned params", "  - name: p\n    kind: ppo\n    train:\n      steps: 1024\n      params:\n        ppo:\n          learning_rat: 0.1\n",
			`chk.yaml line 20: policies[1].train.params.ppo.learning_rat: unknown key "learning_rat"`},
		{"bad learned value", "  - name: p\n    kind: ppo\n    train:\n      steps: 1024\n      params:\n        ppo: {num_envs: 8, num_minibatches: 7}\n",
			"chk.yaml line 19: policies[1].train.params.ppo.num_minibatches: 7: must divide the batch size"},
		{"other algorithm's section", "  - name: p\n    kind: ppo\n    train:\n      steps: 1024\n      params:\n        dqn: {gamma: 0.5}\n",
			"chk.yaml line 19: policies[1].train.params.dqn: a dqn section in a ppo run would be ignored"},
		{"steps in learned params", "  - name: p\n    kind: dqn\n    train:\n      steps: 1024\n      params:\n        steps: 99\n",
			"chk.yaml line 19: policies[1].train.params.steps: set by the experiment (the policy's train.steps), not here"},
		{"empty actions", "  - name: p\n    kind: dqn\n    train:\n      steps: 1024\n      params:\n        env: {actions: []}\n",
			"chk.yaml line 19: policies[1].train.params.env.actions: empty"},
		{"env weight", "  - name: p\n    kind: dqn\n    train:\n      steps: 1024\n      params:\n        env:\n          drop_weight: -2\n",
			"chk.yaml line 20: policies[1].train.params.env.drop_weight: -2: must be at least 0"},
		{"grid value", "  - name: t\n    kind: hpa-tuned\n    tune: {grid: [0.5, 1.5]}\n",
			"chk.yaml line 16: policies[1].tune.grid[1]: 1.5: must be in (0, 1]"},
		{"grid param", "  - name: t\n    kind: hpa-tuned\n    tune: {param: targett, grid: [0.5]}\n",
			`chk.yaml line 16: policies[1].tune.param: "targett": not a parameter of hpa`},
		{"static out of range", "  - name: s\n    kind: static\n    params: {n: 50}\n",
			"chk.yaml line 16: policies[1].params.n: 50: must be in [min_replicas, max_replicas] = [1, 20]"},
		{"sweep value", "  - name: h\n    kind: hpa\n    sweep: {param: target_utilization, values: [0.5, 7]}\n",
			"chk.yaml line 16: policies[1].sweep.values[1]: 7: must be in (0, 1]"},
		{"sweep value in block style", "  - name: h\n    kind: hpa\n    sweep:\n      param: target_utilization\n      values:\n        - 0.5\n        - 0\n",
			"chk.yaml line 20: policies[1].sweep.values[1]: 0: must be in (0, 1]"},
		{"sweep param", "  - name: h\n    kind: hpa\n    sweep: {param: nonsense, values: [1, 2]}\n",
			`chk.yaml line 16: policies[1].sweep.param: "nonsense": not a parameter of hpa`},
		{"nested sweep param", "  - name: k\n    kind: threshold\n    sweep: {param: upper.deep, values: [0.5]}\n",
			`chk.yaml line 16: policies[1].sweep.param: "upper.deep": not a parameter of threshold`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := loadAndCheck(t, dir, checkBase+tc.extra); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// loadAndCheck writes src to dir/chk.yaml, loads it and checks it with the real
// backend.
func loadAndCheck(t *testing.T, dir, src string) error {
	t.Helper()
	p := filepath.Join(dir, "chk.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil {
		return err
	}
	return Check(cfg, DefaultBackend())
}

// TestLoadNamesFileLineAndField: bad values the config alone shows.
func TestLoadNamesFileLineAndField(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"tiny control interval", "  max_replicas: 20\n", "  max_replicas: 20\n  control_interval: 1ns\n", "chk.yaml line 5: sim.control_interval: 1ns: must be at least 100ms"},
		{"huge replicas", "  max_replicas: 20\n", "  max_replicas: 2000000\n", "chk.yaml line 4: sim.max_replicas: 2000000: must be at most 10000"},
		{"sim typo", "  max_replicas: 20\n", "  max_replica: 20\n", `chk.yaml line 4: sim.max_replica: unknown key "max_replica"`},
		{"negative scale", "    builtin: bursty\n", "    builtin: bursty\n    scale_mean: -5\n", "chk.yaml line 8: traces[0].scale_mean: -5: must be at least 0"},
		{"old load form", "    builtin: bursty\n", "    builtin: bursty\n    load: {offset: 1h}\n", `chk.yaml line 8: traces[0].load.offset: unknown key "offset"`},
		{"learned steps bound", "  - {name: thr, kind: threshold}\n", "  - {name: thr, kind: threshold}\n  - {name: d, kind: dqn, train: {steps: 100000000000}}\n", "chk.yaml line 14: policies[1].train.steps: 100000000000: must be at most 1000000000"},
		{"grid NaN", "  - {name: thr, kind: threshold}\n", "  - {name: thr, kind: threshold}\n  - {name: t, kind: hpa-tuned, tune: {grid: [.nan]}}\n", "chk.yaml line 14: policies[1].tune.grid[0]: NaN: must be a finite number"},
		{"workers", "seeds: [1]\n", "seeds: [1]\nworkers: 100000\n", "chk.yaml line 3: workers: 100000: must be at most 1024"},
		{"no seeds", "seeds: [1]\n", "seeds: []\n", "chk.yaml line 2: seeds: at least one seed is required"},
		{"null seeds", "seeds: [1]\n", "seeds:\n", "chk.yaml line 2: seeds: at least one seed is required"},
		{"validation overlaps train", "      validation: {start: 6h, end: 8h}\n", "      validation: {start: 5h, end: 8h}\n",
			"chk.yaml line 10: traces[0].windows.validation: validation window [5h, 8h) overlaps the train window [0s, 6h)"},
		{"test inside train", "      test: {start: 8h, end: 10h}\n", "      test: {start: 1h, end: 3h}\n",
			"chk.yaml line 11: traces[0].windows.test: test window [1h, 3h) overlaps the train window [0s, 6h)"},
		{"test overlaps validation", "      test: {start: 8h, end: 10h}\n", "      test: {start: 7h59m, end: 10h}\n",
			"chk.yaml line 11: traces[0].windows.test: test window [7h59m, 10h) overlaps the validation window [6h, 8h)"},
		{"test window shorter than a control interval", "      test: {start: 8h, end: 10h}\n", "      test: {start: 8h, end: 8h0m10s}\n",
			"chk.yaml line 11: traces[0].windows.test: test window [8h, 8h0m10s) is 10s long, shorter than sim.control_interval (15s)"},
		{"validation window shorter than a set control interval",
			"  max_replicas: 20\ntraces:\n  - name: b\n    builtin: bursty\n    windows:\n      train: {start: 0h, end: 6h}\n      validation: {start: 6h, end: 8h}\n",
			"  max_replicas: 20\n  control_interval: 1h\ntraces:\n  - name: b\n    builtin: bursty\n    windows:\n      train: {start: 0h, end: 6h}\n      validation: {start: 6h, end: 6h30m}\n",
			"chk.yaml line 11: traces[0].windows.validation: validation window [6h, 6h30m) is 30m long, shorter than sim.control_interval (1h)"},
		{"split beside windows", "    builtin: bursty\n", "    builtin: bursty\n    split: {train: 0.5, validation: 0.25, test: 0.25}\n",
			"chk.yaml line 8: traces[0].split: given together with traces[0].windows, which would replace it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "chk.yaml")
			src := strings.Replace(checkBase, tc.old, tc.new, 1)
			if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestCheckTraces: a trace that cannot be loaded and a window outside its trace are
// reported with the line of the trace, before any work.
func TestCheckTraces(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"missing file", "    builtin: bursty\n", "    file: nowhere.csv\n", "chk.yaml line 7: traces[0].file: stat "},
		{"window after the end", "      test: {start: 8h, end: 10h}\n", "      test: {start: 8h, end: 100h}\n", "chk.yaml line 11: traces[0].windows.test: trace \"b\": test window ends at 100h"},
		{"crop outside", "    builtin: bursty\n", "    builtin: bursty\n    start: 100h\n", `chk.yaml line 8: traces[0].start: 100h: not inside the trace "bursty" (72h long)`},
		{"windows share a bucket", "      train: {start: 0h, end: 6h}\n      validation: {start: 6h, end: 8h}\n", "      train: {start: 0h, end: 6h0m30s}\n      validation: {start: 6h0m30s, end: 8h}\n",
			`chk.yaml line 10: traces[0].windows.validation: trace "b": the train and validation windows share the bucket at 6h (buckets of 1m)`},
		{"split window shorter than a control interval", "    windows:\n      train: {start: 0h, end: 6h}\n      validation: {start: 6h, end: 8h}\n      test: {start: 8h, end: 10h}\n",
			"    resample: 1s\n    length: 10m\n    split: {train: 0.98, validation: 0.01, test: 0.01}\n",
			`chk.yaml line 10: traces[0].split: trace "b": validation window is 6s long, shorter than sim.control_interval (15s)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "chk.yaml")
			if err := os.WriteFile(p, []byte(strings.Replace(checkBase, tc.old, tc.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			err = Check(cfg, DefaultBackend())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// TestCheckNotesZeroRuns: a trace file with hours between two rows (read as no
// traffic) is noted, naming the config's line, the trace and the run, as the
// experiment crops it; the built-in trace and a crop that leaves the gap out are not.
func TestCheckNotesZeroRuns(t *testing.T) {
	dir := t.TempDir()
	csv := "timestamp,requests\n"
	for m := range 24 * 60 {
		if m >= 300 && m < 400 { // 100 minutes without a row
			continue
		}
		csv += fmt.Sprintf("2020-01-01T%02d:%02d:00Z,600\n", m/60, m%60)
	}
	if err := os.WriteFile(filepath.Join(dir, "gap.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	gap := "  - name: g\n    file: gap.csv\n    split: {train: 0.6, validation: 0.2, test: 0.2}\n"
	for _, tc := range []struct {
		name, traces, want string
	}{
		{"gap", gap, `chk.yaml line 12: traces[1]: trace "g" has no request for 1h40m0s from 5h0m0s in (100 zero buckets in all): missing data or an outage?`},
		{"cropped out", strings.Replace(gap, "    file: gap.csv\n", "    file: gap.csv\n    start: 7h\n", 1), ""},
	} {
		notes := checkNotes(t, dir, strings.Replace(checkBase, "policies:\n", tc.traces+"policies:\n", 1))
		if tc.want == "" && len(notes) != 0 || tc.want != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.want)) {
			t.Errorf("%s: notes %q, want %q", tc.name, notes, tc.want)
		}
	}
}

// TestCheckNotesCappedDemand: a trace whose demand exceeds sim.max_replicas is noted
// with the config's line, the count of buckets and the replicas needed; the same
// trace under a limit above its demand is not.
func TestCheckNotesCappedDemand(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		limit string
		want  string
	}{
		{"max_replicas: 20", `chk.yaml line 6: traces[0]: trace "b": demand exceeds sim.max_replicas 20 in `},
		{"max_replicas: 300", ""},
	} {
		cfgText := strings.Replace(checkBase, "max_replicas: 20", tc.limit, 1)
		notes := checkNotes(t, dir, strings.Replace(cfgText, "    builtin: bursty\n", "    builtin: bursty\n    scale_mean: 400\n", 1))
		if tc.want == "" && len(notes) != 0 || tc.want != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.want) || !strings.Contains(notes[0], "replicas needed)")) {
			t.Errorf("%s: notes %q, want %q", tc.limit, notes, tc.want)
		}
	}
}

// An SLO the service time alone misses is noted once, at sim.slo, and not blamed on
// max_replicas; min_replicas 0 is noted for each rule that cannot scale up from zero
// (threshold, and tuned HPA as HPA), not for one that can (KPA).
func TestCheckNotesServiceAndScaleFromZero(t *testing.T) {
	dir := t.TempDir()
	slo := strings.Replace(checkBase, "  max_replicas: 20\n", "  max_replicas: 20\n  slo: {latency: 100ms, target: 0.99}\n", 1)
	notes := checkNotes(t, dir, strings.Replace(slo, "    builtin: bursty\n", "    builtin: bursty\n    scale_mean: 400\n", 1))
	if len(notes) != 1 || !strings.Contains(notes[0], "chk.yaml line 5: sim.slo: the SLO (99% within 100ms) cannot be met at any replica count") {
		t.Errorf("unattainable SLO: notes %q", notes)
	}
	zero := strings.Replace(checkBase, "  max_replicas: 20\n", "  max_replicas: 20\n  min_replicas: 0\n", 1)
	zero = strings.Replace(zero, "  - {name: thr, kind: threshold}\n", "  - {name: thr, kind: threshold}\n  - {name: k, kind: kpa}\n  - {name: ht, kind: hpa-tuned, tune: {grid: [0.6]}}\n", 1)
	notes = checkNotes(t, dir, zero)
	if len(notes) != 2 || !strings.Contains(notes[0], "policies[0]: min_replicas is 0, and thr cannot scale up from zero replicas") ||
		!strings.Contains(notes[1], "policies[2]: min_replicas is 0, and ht cannot scale up from zero replicas") {
		t.Errorf("min_replicas 0: notes %q", notes)
	}
}

// A validation or test window widened by its buckets, or too short to choose or
// judge on, is noted, naming the window's line; the base's two-hour windows on
// bucket boundaries are not.
func TestCheckNotesShortWindows(t *testing.T) {
	dir := t.TempDir()
	if notes := checkNotes(t, dir, checkBase); len(notes) != 0 {
		t.Fatalf("base: notes %q", notes)
	}
	short := strings.Replace(checkBase, "validation: {start: 6h, end: 8h}", "validation: {start: 6h, end: 6h0m15s}", 1)
	notes := checkNotes(t, dir, short)
	want := []string{
		`chk.yaml line 10: traces[0].windows.validation: trace "b": the validation window [6h, 6h0m15s) runs as [6h, 6h1m), the whole buckets of 1m it touches`,
		`chk.yaml line 10: traces[0].windows.validation: trace "b": the validation window lasts 1m, 4 control intervals: too few decisions to choose a policy on`,
	}
	if len(notes) != len(want) {
		t.Fatalf("notes %q, want %d", notes, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(notes[i], w) {
			t.Errorf("note %d: %q, want prefix %q", i, notes[i], w)
		}
	}
}

// What loading and shaping a trace warn of comes with the notes, at the field it
// concerns: here a rescale that makes each of a few requests per second a burst.
func TestCheckNotesTraceShaping(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("seconds,count\n")
	for s := range 4 * 3600 {
		fmt.Fprintf(&b, "%d,%d\n", s, s%3%2)
	}
	if err := os.WriteFile(filepath.Join(dir, "sparse.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgText := strings.Replace(checkBase, "    builtin: bursty\n", "    file: sparse.csv\n    scale_mean: 100\n", 1)
	cfgText = strings.NewReplacer("end: 6h", "end: 2h", "start: 6h, end: 8h", "start: 2h, end: 3h", "start: 8h, end: 10h", "start: 3h, end: 4h").Replace(cfgText)
	notes := checkNotes(t, dir, cfgText)
	if len(notes) == 0 || !strings.HasPrefix(notes[0], "chk.yaml line 8: traces[0].scale_mean: 100: multiplies") || !strings.Contains(notes[0], "each request becomes a burst") {
		t.Errorf("notes %q", notes) // printed as warnings: the note's own "warning:" is dropped
	}
}

// checkNotes writes cfgText as dir/chk.yaml, loads it and returns its CheckNotes.
func checkNotes(t *testing.T, dir, cfgText string) []string {
	t.Helper()
	p := filepath.Join(dir, "chk.yaml")
	if err := os.WriteFile(p, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := CheckNotes(cfg, DefaultBackend())
	if err != nil {
		t.Fatal(err)
	}
	return notes
}

// TestBadParamsStopBeforeAnyWork: a typo in a learned policy's params fails the run
// before any training (nothing written, not even config.yaml), and the corrected
// config then runs in the same results directory.
func TestBadParamsStopBeforeAnyWork(t *testing.T) {
	out := t.TempDir()
	bad := tinyConfig + "  - name: p2\n    kind: ppo\n    train:\n      steps: 100\n      params: {ppo: {learnin_rate: 1}}\n"
	cfg, err := Parse([]byte(bad), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBackend{}
	b := f.backend()
	b.Learners[kindPPO] = DefaultBackend().Learners[kindPPO]
	_, err = (&Runner{Config: cfg, Out: out, Backend: b, Workers: 1}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "tiny.yaml line") || !strings.Contains(err.Error(), "train.params.ppo.learnin_rate") {
		t.Fatalf("got %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 || f.trains.Load() != 0 || f.sims.Load() != 0 {
		t.Fatalf("work done before the check failed: %d entries, %d trainings, %d simulations", len(entries), f.trains.Load(), f.sims.Load())
	}
	// A run that stopped after writing config.yaml but before any cell does not bind
	// the directory to its config.
	if err := os.WriteFile(filepath.Join(out, "config.yaml"), []byte("name: older\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := tinyCfg(t)
	if _, err := (&Runner{Config: good, Out: out, Backend: f.backend(), Workers: 1}).Run(context.Background()); err != nil {
		t.Fatalf("corrected config refused: %v", err)
	}
	// Once cells exist, a different config is refused.
	other := tinyCfg(t)
	other.Seeds = []uint64{7}
	if _, err := (&Runner{Config: other, Out: out, Backend: f.backend(), Workers: 1}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "different experiment") {
		t.Fatalf("changed config after cells: %v", err)
	}
}
