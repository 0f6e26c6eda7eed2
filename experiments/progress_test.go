package experiments

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// recordedRun loads a config and the cells of a recorded run of it, in the order
// they finished, with their finishing times.
func recordedRun(t *testing.T, cfgPath, runPath string) (*run, []Cell, []time.Duration) {
	t.Helper()
	cfg, err := Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	x := &run{cfg: cfg, traces: map[string]*loadedTrace{}, policies: map[string]*PolicySpec{}}
	for _, v := range Variants(cfg) {
		p := v.Spec
		x.policies[p.Name] = &p
	}
	for _, spec := range cfg.Traces {
		tr, err := loadTrace(spec)
		if err != nil {
			t.Fatal(err)
		}
		b, err := windowBounds(spec, len(tr.Rates), tr.Bucket)
		if err != nil {
			t.Fatal(err)
		}
		x.traces[spec.Name] = &loadedTrace{spec: spec, full: tr, bounds: b}
	}
	prep, eval := Matrix(cfg)
	byDir := map[string]Cell{}
	for _, c := range append(prep, eval...) {
		byDir[c.Dir()] = c
	}
	f, err := os.Open(runPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var cells []Cell
	var at []time.Duration
	for _, row := range rows[1:] {
		c, ok := byDir[row[0]]
		if !ok {
			t.Fatalf("%s: cell %s is not in the matrix of %s", runPath, row[0], cfgPath)
		}
		sec, err := strconv.ParseFloat(row[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		cells = append(cells, c)
		at = append(at, time.Duration(sec*float64(time.Second)))
	}
	if len(cells) != len(prep)+len(eval) {
		t.Fatalf("%s: %d cells recorded, the matrix has %d", runPath, len(cells), len(prep)+len(eval))
	}
	return x, cells, at
}

// TestEstimatorOnRecordedRun replays a recorded run through the time-left estimator:
// once 10% of the expected work is done, every estimate is within a factor of 2 of
// the time the run actually still took.
func TestEstimatorOnRecordedRun(t *testing.T) {
	x, cells, at := recordedRun(t, "testdata/progress/rules.yaml", "testdata/progress/rules-run.csv")
	end := at[len(at)-1]
	check := func(name string, work func(Cell) float64) (worst float64, bad int) {
		e := newEstimator(cells, work)
		worst = 1
		for i, c := range cells {
			left, ok := e.done(c, at[i])
			truth := end - at[i]
			if !ok || e.fraction() < 0.1 || truth < 30*time.Second {
				continue // the last half-minute is noise between the final completions
			}
			ratio := float64(left) / float64(truth)
			if ratio < 1 {
				ratio = 1 / ratio
			}
			worst = max(worst, ratio)
			if ratio > 2 {
				bad++
			}
		}
		t.Logf("%s: worst ratio of estimate to truth after 10%% of the work: %.2f (%d estimates beyond 2x)", name, worst, bad)
		return worst, bad
	}
	if worst, bad := check("work-weighted", x.cellWork); bad > 0 {
		t.Errorf("work-weighted estimate off by up to %.2fx after 10%% of the work", worst)
	}
}

func TestCellWorkWeighsWindowsAndTraining(t *testing.T) {
	x, _, _ := recordedRun(t, "testdata/progress/rules.yaml", "testdata/progress/rules-run.csv")
	ev := Cell{Phase: PhaseEval, Policy: "hpa", Kind: kindHPA, Trace: "bursty", Seed: 1, Split: SplitTest}
	lt := x.traces["bursty"]
	b := lt.bounds[SplitTest]
	want := 0.0
	for _, r := range lt.full.Rates[b.From:b.To] {
		want += r * 60
	}
	if got := x.cellWork(ev); math.Abs(got-want) > 1e-9*want {
		t.Errorf("eval cell work %v, want the window's %v requests", got, want)
	}
	tune := Cell{Phase: PhaseTune, Policy: "hpa-tuned", Kind: KindHPATuned, Trace: "bursty"}
	tb := lt.bounds[SplitTrain]
	tw := 0.0
	for _, r := range lt.full.Rates[tb.From:tb.To] {
		tw += r * 60
	}
	if got, want := x.cellWork(tune), tw*5*3; math.Abs(got-want) > 1e-9*want { // grid of 5, 3 seeds
		t.Errorf("tune cell work %v, want %v", got, want)
	}
	x.policies["ppo"] = &PolicySpec{Name: "ppo", Kind: kindPPO, Train: &TrainBudget{Steps: 1000}}
	tr := x.cellWork(Cell{Phase: PhaseTrain, Policy: "ppo", Kind: kindPPO, Seed: 1})
	if !(tr > 1000*trainStepRequests) || strings.Contains(FormatFloat(tr), "NaN") {
		t.Errorf("train cell work %v: want more than the steps' fixed cost", tr)
	}
}

// The heartbeat names the running cells once a run has shown nothing for quietFor,
// then again only after another quietFor; a finished cell leaves the list, and
// nothing is said while no cell runs.
func TestProgressHeartbeat(t *testing.T) {
	var out strings.Builder
	train := Cell{Phase: PhaseTrain, Policy: "ppo", Kind: "ppo", Seed: 1}
	tune := Cell{Phase: PhaseTune, Policy: "ht", Kind: KindHPATuned, Trace: "b"}
	p := newProgress(&out, []Cell{train, tune}, nil)
	t0 := p.start
	p.beat(t0.Add(time.Minute))
	if out.Len() != 0 {
		t.Fatalf("nothing running, yet: %q", out.String())
	}
	p.started(train)
	p.started(tune)
	p.beat(t0.Add(quietFor - time.Second))
	if out.Len() != 0 {
		t.Fatalf("before quietFor: %q", out.String())
	}
	p.beat(t0.Add(quietFor))
	want := "[0/2] running " + train.Dir() + ", " + tune.Dir() + " (elapsed 30s)\n" // sorted
	if out.String() != want {
		t.Fatalf("heartbeat %q, want %q", out.String(), want)
	}
	p.beat(t0.Add(quietFor + time.Second))
	if out.String() != want {
		t.Fatalf("a second line within quietFor: %q", out.String())
	}
	p.done(tune)
	out.Reset()
	p.beat(p.last.Add(quietFor))
	if got := out.String(); !strings.HasPrefix(got, "[1/2] running "+train.Dir()+" (elapsed ") {
		t.Fatalf("after a cell finished: %q", got)
	}
}
