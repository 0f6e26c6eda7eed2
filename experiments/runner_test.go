package experiments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/sim"
)

// tree reads every regular file under dir (except temporaries) by relative path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.Contains(d.Name(), ".tmp-") {
				t.Errorf("temporary directory left behind: %s", p)
			}
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		out[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTrees(t *testing.T, a, b map[string][]byte, what string) {
	t.Helper()
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		x, okx := a[k]
		y, oky := b[k]
		if !okx || !oky {
			t.Errorf("%s: %s present in only one output", what, k)
			continue
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s: %s differs", what, k)
		}
	}
}

func runTiny(t *testing.T, f *fakeBackend, out string, mod func(*Runner)) RunStats {
	t.Helper()
	r := &Runner{Config: tinyCfg(t), Out: out, Backend: f.backend(), Workers: 1}
	if mod != nil {
		mod(r)
	}
	st, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRunCountsAndLayout(t *testing.T) {
	f := &fakeBackend{}
	out := t.TempDir()
	st := runTiny(t, f, out, nil)
	cfg := tinyCfg(t)
	prep, eval := Matrix(cfg)
	// 1 tuned policy x 2 traces tuning cells, 1 learned policy x 3 seeds training cells.
	if len(prep) != 2+3 || len(eval) != 4*2*2*3 {
		t.Fatalf("matrix: %d prepare, %d eval cells; want 5 and 48", len(prep), len(eval))
	}
	if st.Ran != len(prep)+len(eval) || st.Skipped != 0 {
		t.Errorf("stats %+v: want %d ran", st, len(prep)+len(eval))
	}
	// Simulations: 3 eval policies need none extra; tuning: grid 3 x seeds 3 per trace.
	if got, want := f.sims.Load(), int64(len(eval)+2*3*3); got != want {
		t.Errorf("simulations: %d, want %d", got, want)
	}
	if got := f.trains.Load(); got != 3 {
		t.Errorf("training runs: %d, want 3", got)
	}
	for _, c := range eval {
		for _, name := range []string{"metrics.json", "timeline.csv", "latency_cdf.csv", "done"} {
			if _, err := os.Stat(filepath.Join(out, c.Dir(), name)); err != nil {
				t.Errorf("cell %s: %v", c.Dir(), err)
			}
		}
	}
	sum, err := os.ReadFile(filepath.Join(out, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ReadSummary(bytes.NewReader(sum), "summary.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(eval) {
		t.Fatalf("summary.csv: %d rows, want %d", len(rows), len(eval))
	}
	for i, r := range rows {
		if r.Cell != eval[i].Name() {
			t.Fatalf("summary row %d is %s, want %s (matrix order)", i, r.Cell, eval[i].Name())
		}
	}
	// The tuned cell records the chosen value and it is one of the grid values.
	m, err := readCellMetrics(filepath.Join(out, "cells", "alpha__hpa-tuned__1__test", "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Tuned == nil || m.Tuned.Param != "target_utilization" {
		t.Fatalf("tuned: %+v", m.Tuned)
	}
	if v := float64(m.Tuned.Value); v != 0.5 && v != 0.7 && v != 0.9 {
		t.Errorf("tuned value %v not in the grid", v)
	}
	// Policies on the same (trace, seed, window) share the simulator seed.
	o, _ := readCellMetrics(filepath.Join(out, "cells", "alpha__oracle__1__test", "metrics.json"))
	if o.SimSeed != m.SimSeed {
		t.Errorf("sim seeds differ across policies: %d vs %d", o.SimSeed, m.SimSeed)
	}
	// The window is the last 20% of a 50-minute trace.
	if m.WindowStart != 40*60 || m.WindowEnd != 50*60 {
		t.Errorf("test window [%v, %v) s, want [2400, 3000)", m.WindowStart, m.WindowEnd)
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	one, two, four := t.TempDir(), t.TempDir(), t.TempDir()
	runTiny(t, &fakeBackend{}, one, func(r *Runner) { r.Workers = 1 })
	runTiny(t, &fakeBackend{}, two, func(r *Runner) { r.Workers = 2 })
	runTiny(t, &fakeBackend{}, four, func(r *Runner) { r.Workers = 4 })
	a := tree(t, one)
	sameTrees(t, a, tree(t, two), "1 vs 2 workers")
	sameTrees(t, a, tree(t, four), "1 vs 4 workers")
}

func TestResumeSkipsFinishedCells(t *testing.T) {
	full := t.TempDir()
	runTiny(t, &fakeBackend{}, full, nil)

	out := t.TempDir()
	runTiny(t, &fakeBackend{}, out, nil)
	// Lose two evaluation cells (one outright, one half-written) and a training cell.
	os.RemoveAll(filepath.Join(out, "cells", "beta__threshold__2__validation"))
	os.Remove(filepath.Join(out, "cells", "alpha__oracle__3__test", "done"))
	os.Remove(filepath.Join(out, "train", "ppo__2", "done"))
	f := &fakeBackend{}
	st := runTiny(t, f, out, func(r *Runner) { r.Workers = 2 })
	if st.Ran != 3 {
		t.Errorf("resumed run ran %d cells, want 3", st.Ran)
	}
	if f.sims.Load() != 2 || f.trains.Load() != 1 {
		t.Errorf("resumed run: %d simulations, %d trainings; want 2 and 1", f.sims.Load(), f.trains.Load())
	}
	sameTrees(t, tree(t, full), tree(t, out), "resumed vs uninterrupted")

	// A run of a finished directory does nothing.
	f = &fakeBackend{}
	st = runTiny(t, f, out, nil)
	if st.Ran != 0 || f.sims.Load() != 0 {
		t.Errorf("rerun: %+v, %d simulations; want nothing run", st, f.sims.Load())
	}
}

func TestInterruptedRunResumes(t *testing.T) {
	full := t.TempDir()
	runTiny(t, &fakeBackend{}, full, nil)
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeBackend{}
	b := f.backend()
	inner := b.Simulate
	calls := 0
	b.Simulate = func(c simConfig, tr *traceT, a autoscaler) (Outcome, error) {
		calls++
		if calls == 30 {
			cancel()
		}
		return inner(c, tr, a)
	}
	r := &Runner{Config: tinyCfg(t), Out: out, Backend: b, Workers: 1}
	if _, err := r.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err %v, want context.Canceled", err)
	}
	st := runTiny(t, &fakeBackend{}, out, nil)
	if st.Skipped == 0 || st.Ran == 0 {
		t.Errorf("resume after interrupt: %+v; want some skipped and some run", st)
	}
	sameTrees(t, tree(t, full), tree(t, out), "interrupted+resumed vs uninterrupted")
}

// TestInterruptedWhileLoadingTraces: a Ctrl-C while the check still loads a large
// trace returns at once, with nothing written into the results directory.
func TestInterruptedWhileLoadingTraces(t *testing.T) {
	out := filepath.Join(t.TempDir(), "results")
	ctx, cancel := context.WithCancel(context.Background())
	b := (&fakeBackend{}).backend()
	inner := b.LoadTrace
	loading, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.LoadTrace = func(spec TraceSpec) (*traceT, error) {
		once.Do(func() { close(loading) })
		<-release // a load that outlasts the interruption
		return inner(spec)
	}
	defer close(release)
	r := &Runner{Config: tinyCfg(t), Out: out, Backend: b, Workers: 1}
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx)
		done <- err
	}()
	<-loading
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted while loading: err %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute): // a hang, not a timing claim: the load never ends
		t.Fatal("Run still waits for the trace check a minute after the interruption")
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("an interrupted check wrote into the results directory: %v", ents)
	}
}

func TestConfigMismatchRefused(t *testing.T) {
	out := t.TempDir()
	runTiny(t, &fakeBackend{}, out, nil)
	cfg := tinyCfg(t)
	cfg.Seeds = []uint64{1, 2}
	r := &Runner{Config: cfg, Out: out, Backend: (&fakeBackend{}).backend()}
	if _, err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "different experiment") {
		t.Fatalf("err %v: want a different-experiment error", err)
	}
}

func TestShardsMergeToSingleRun(t *testing.T) {
	single := t.TempDir()
	runTiny(t, &fakeBackend{}, single, nil)
	for _, n := range []int{2, 3} {
		var shards []string
		for i := range n {
			d := t.TempDir()
			runTiny(t, &fakeBackend{}, d, func(r *Runner) { r.Shard = Shard{i, n} })
			shards = append(shards, d)
		}
		merged := t.TempDir()
		st, err := Merge(merged, shards)
		if err != nil {
			t.Fatal(err)
		}
		if st.Missing != 0 {
			t.Errorf("%d shards: %d cells missing", n, st.Missing)
		}
		sameTrees(t, tree(t, single), tree(t, merged), "merged shards vs single run")
	}
}

func TestShardedPhasesWithPrepared(t *testing.T) {
	single := t.TempDir()
	runTiny(t, &fakeBackend{}, single, nil)
	// Phase 1: prepare, sharded; merge.
	var prep []string
	for i := range 2 {
		d := t.TempDir()
		runTiny(t, &fakeBackend{}, d, func(r *Runner) { r.Shard = Shard{i, 2}; r.Phase = RunPrepare })
		prep = append(prep, d)
	}
	prepared := t.TempDir()
	if _, err := Merge(prepared, prep); err != nil {
		t.Fatal(err)
	}
	// Phase 2: evaluate, sharded, reusing the prepared cells: no training repeated.
	var evs []string
	for i := range 2 {
		d := t.TempDir()
		f := &fakeBackend{}
		runTiny(t, f, d, func(r *Runner) { r.Shard = Shard{i, 2}; r.Phase = RunEvaluate; r.Prepared = prepared })
		if f.trains.Load() != 0 {
			t.Errorf("evaluate shard %d trained %d times; want 0 (prepared)", i, f.trains.Load())
		}
		evs = append(evs, d)
	}
	merged := t.TempDir()
	if _, err := Merge(merged, evs); err != nil {
		t.Fatal(err)
	}
	sameTrees(t, tree(t, single), tree(t, merged), "two-phase sharded vs single run")
}

func TestMergeRejectsDisagreement(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	runTiny(t, &fakeBackend{}, a, nil)
	runTiny(t, &fakeBackend{}, b, nil)
	p := filepath.Join(b, "cells", "alpha__threshold__1__test", "metrics.json")
	data, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(data, []byte(`"cost": `), []byte(`"cost": 1`), 1), 0o644)
	if _, err := Merge(t.TempDir(), []string{a, b}); err == nil || !strings.Contains(err.Error(), "disagree") {
		t.Fatalf("err %v: want a disagreement", err)
	}
}

// BenchmarkRunnerOverhead measures the runner's own cost per cell (matrix, files,
// summary) with the fake backend, which does almost no simulation work.
func BenchmarkRunnerOverhead(b *testing.B) {
	cfg := tinyCfg(b)
	_, eval := Matrix(cfg)
	b.ResetTimer()
	for range b.N {
		out := b.TempDir()
		r := &Runner{Config: cfg, Out: out, Backend: (&fakeBackend{}).backend(), Workers: 2}
		if _, err := r.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(eval)), "µs/cell")
}

func TestProgressLinesAndLog(t *testing.T) {
	var prog bytes.Buffer
	out := t.TempDir()
	st := runTiny(t, &fakeBackend{}, out, func(r *Runner) { r.Progress = &prog })
	var lines []string // one per cell; a heartbeat of a slow machine aside
	for _, l := range strings.Split(strings.TrimSpace(prog.String()), "\n") {
		if !strings.Contains(l, "] running ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != st.Ran {
		t.Fatalf("%d progress lines for %d cells", len(lines), st.Ran)
	}
	if !strings.HasPrefix(lines[0], "[1/53] tune/") || !strings.HasPrefix(lines[len(lines)-1], "[53/53] cells/") || !strings.Contains(lines[0], "left ~") {
		t.Errorf("progress lines: %q ... %q", lines[0], lines[len(lines)-1])
	}
	var logb bytes.Buffer
	pw := &prefixWriter{w: &logb, prefix: "train/ppo__1: "}
	pw.Write([]byte("step 1\nstep"))
	pw.Write([]byte(" 2\n"))
	if logb.String() != "train/ppo__1: step 1\ntrain/ppo__1: step 2\n" {
		t.Errorf("prefixed log %q", logb.String())
	}
}

// An interrupted run reports the cells it finished (the command line prints "interrupted
// after N cells"), counting those of the phase it was interrupted in.
func TestInterruptedRunCountsFinishedCells(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeBackend{}
	b := f.backend()
	inner := b.Simulate
	calls := 0
	b.Simulate = func(c simConfig, tr *traceT, a autoscaler) (Outcome, error) {
		calls++
		if calls == 40 {
			cancel()
		}
		return inner(c, tr, a)
	}
	r := &Runner{Config: tinyCfg(t), Out: out, Backend: b, Workers: 1}
	st, err := r.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err %v, want context.Canceled", err)
	}
	prepare, eval := Matrix(r.Config)
	done := 0
	for _, c := range append(prepare, eval...) {
		if isDone(filepath.Join(out, c.Dir())) {
			done++
		}
	}
	if done <= len(prepare) {
		t.Fatalf("test setup: interrupted with %d cells done, want some evaluation cells among them", done)
	}
	if st.Ran != done {
		t.Errorf("interrupted run reports %d cells run, %d are finished on disk", st.Ran, done)
	}
}

// The grid search tells the policy where its window lies in the trace, as evaluation
// does: a training window that does not begin at the trace's start is not at offset 0.
func TestTuneContextStartsAtTrainingWindow(t *testing.T) {
	cfg, err := Parse([]byte(`name: offs
seeds: [1]
traces:
  - name: alpha
    builtin: bursty
    windows:
      train: {start: 10m, end: 30m}
      validation: {start: 30m, end: 40m}
      test: {start: 40m, end: 50m}
policies:
  - {name: hpa-tuned, kind: hpa-tuned, tune: {grid: [0.5, 0.9]}}
`), "offs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBackend{}
	b := f.backend()
	inner := b.NewRule
	var mu sync.Mutex
	starts := map[time.Duration]int{}
	b.NewRule = func(kind string, params *yaml.Node, ec EvalContext) (autoscaler, error) {
		mu.Lock()
		starts[ec.Start]++
		mu.Unlock()
		return inner(kind, params, ec)
	}
	r := &Runner{Config: cfg, Out: t.TempDir(), Backend: b, Workers: 1}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Two grid values on the training window, one evaluation on each other window, and
	// the check before any work builds both grid values once (on the test window).
	want := map[time.Duration]int{10 * time.Minute: 2, 30 * time.Minute: 1, 40 * time.Minute: 1 + 2}
	if fmt.Sprint(starts) != fmt.Sprint(want) {
		t.Errorf("policy built with window starts %v, want %v", starts, want)
	}
}

// When one cell fails, the pool stops the others, which then fail with their own
// interruption (sim: interrupted); the run reports the failure that caused it, not
// one of those. When the caller stops the run and every cell was interrupted, it
// reports the caller's context error.
func TestRunReportsTheCauseNotTheInterruptions(t *testing.T) {
	const src = `name: cause
seeds: [1, 2, 3, 4]
eval: [test]
traces:
  - {name: a, builtin: bursty}
policies:
  - {name: thr, kind: threshold}
`
	boom := errors.New("replica pool exhausted")
	for _, tc := range []struct {
		name string
		fail bool // the last cell fails once the others run; else the caller cancels
		want error
	}{
		{"a cell fails", true, boom},
		{"the caller cancels", false, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(src), "cause.yaml")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := &fakeBackend{}
			b := f.backend()
			// The last cell by cell order, seed 4; the three before it run until
			// interrupted.
			last := deriveSeed(4, "a/"+SplitTest)
			var running atomic.Int64
			b.Simulate = func(c simConfig, tr *traceT, a autoscaler) (Outcome, error) {
				if tc.fail && c.Seed == last {
					for running.Load() < 3 {
						time.Sleep(time.Millisecond)
					}
					return Outcome{}, boom
				}
				if running.Add(1) == 4 {
					cancel()
				}
				for !c.Interrupt() {
					time.Sleep(time.Millisecond)
				}
				return Outcome{}, sim.ErrInterrupted
			}
			r := &Runner{Config: cfg, Out: t.TempDir(), Backend: b, Workers: 4}
			_, err = r.Run(ctx)
			if !errors.Is(err, tc.want) || errors.Is(err, sim.ErrInterrupted) {
				t.Fatalf("run error %v, want %v", err, tc.want)
			}
		})
	}
}
