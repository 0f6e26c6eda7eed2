package calibrate

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/live/workload"
	"github.com/intelliscale/intelliscale/sim"
)

// TestCompare checks the gap figures on intervals worked out by hand.
func TestCompare(t *testing.T) {
	nan := math.NaN()
	live := []Interval{
		{P95: 0.2, Arrivals: 100, Violations: 0, Replicas: 1},
		{P95: 0.4, Arrivals: 100, Violations: 10, Replicas: 2},
		{P95: 1.0, Arrivals: 100, Violations: 20, Replicas: 4},
		{P95: nan, Arrivals: 0, Violations: 0, Replicas: nan}, // nothing completed
	}
	simulated := []Interval{
		{P95: 0.22, Arrivals: 100, Violations: 1, Replicas: 1}, // 10%
		{P95: 0.3, Arrivals: 100, Violations: 5, Replicas: 2},  // 25%
		{P95: 3.0, Arrivals: 100, Violations: 30, Replicas: 2}, // 200%, replicas 2 apart
		{P95: 0.1, Arrivals: 0, Violations: 0, Replicas: 1},
	}
	g := Compare(live, simulated)
	want := Gap{Intervals: 3, MedianP95Err: 0.25, WorstP95Err: 2, LiveViolations: 0.1, SimViolations: 0.12, ViolationDiffPoints: 2, ReplicasAgree: 2.0 / 3}
	close := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if g.Intervals != want.Intervals || !close(g.MedianP95Err, want.MedianP95Err) || !close(g.WorstP95Err, want.WorstP95Err) ||
		!close(g.LiveViolations, want.LiveViolations) || !close(g.SimViolations, want.SimViolations) ||
		!close(g.ViolationDiffPoints, want.ViolationDiffPoints) || !close(g.ReplicasAgree, want.ReplicasAgree) {
		t.Errorf("gap %+v, want %+v", g, want)
	}
}

// TestGapSeparatesTheTrueModelFromAWrongOne runs the end-to-end comparison with a
// simulated stand-in for the live stack: the true model under other service-time
// seeds and a start-up half a second longer than the calibrated one. The calibrated
// config must come close to it and the config with the service time doubled must be
// at least twice as far, for both the fixed count and the threshold rule.
func TestGapSeparatesTheTrueModelFromAWrongOne(t *testing.T) {
	truth := sim.Config{ServiceTime: sim.Dist{Kind: sim.LogNormal, Mean: 0.1, CV: 0.5}, Concurrency: 4,
		StartupDelay: sim.Dist{Kind: sim.Constant, Mean: 3.5}, QueueCapacity: new(50), Timeout: 5 * time.Second}
	calibrated := truth
	calibrated.StartupDelay.Mean = 3
	run := &e2eRun{Config: calibrated}
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i, ph := range []e2ePhase{{Name: "a", Policy: "static", Params: "{n: 3}", Initial: 3}, {Name: "b", Policy: "threshold", Params: e2eThreshold, Initial: 1}} {
		sched, err := workload.Schedule(e2eTrace(), 1, 1, 0, 0, rand.New(rand.NewPCG(uint64(i)+1, 0xe2e)))
		if err != nil {
			t.Fatal(err)
		}
		ph.T0, ph.Arrivals = t0, sched
		ph.Live = simulatePhase(t, truth, ph, 101)
		run.Phases = append(run.Phases, ph)
	}
	gaps := compareRun(t, run)
	for _, phase := range []string{"a", "b"} {
		right, wrong := gaps[phase+"/calibrated"], gaps[phase+"/wrong"]
		if right.MedianP95Err > 0.05 || right.ViolationDiffPoints > 2 || right.ReplicasAgree < 0.9 {
			t.Errorf("(%s) calibrated config: %s; want a median p95 error <= 5%%, violations within 2 points, replicas within 1 in >= 90%% of intervals", phase, right)
		}
		if wrong.MedianP95Err < 2*right.MedianP95Err || wrong.MedianP95Err < 0.2 {
			t.Errorf("(%s) wrong config's median p95 error %.1f%%: want at least twice the calibrated %.1f%% and >= 20%%", phase, 100*wrong.MedianP95Err, 100*right.MedianP95Err)
		}
	}
}

// TestFiguresAlignsIntervals: with a start finer than the millisecond timestamps of
// the series, interval k still covers (start+k*interval, start+(k+1)*interval]:
// requests arriving between 20 s and 25 s are counted in the interval ending at 25 s
// (within the extrapolation of increase()), none in the one before.
func TestFiguresAlignsIntervals(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 42, 761_912_345, time.UTC)
	tr := e2eTrace()
	tr.Start = start
	for i := 0; i < 100; i++ {
		tr.Arrivals = append(tr.Arrivals, 20*time.Second+time.Duration(i)*50*time.Millisecond)
	}
	cfg := sim.Config{ControlInterval: 5 * time.Second, ScrapeInterval: time.Second, InitialReplicas: 3, MaxReplicas: 5}
	st := features.NewStorage(start)
	if _, err := sim.RunRecorded(cfg, tr, sim.AutoscalerFunc(func(sim.Observation) int { return 3 }), st); err != nil {
		t.Fatal(err)
	}
	fs, err := Figures(context.Background(), NewEngineQuerier("run", st), start, 24, 5*time.Second, 500*time.Millisecond, GapQueries{})
	if err != nil {
		t.Fatal(err)
	}
	for k, f := range fs {
		switch {
		case k == 4 && math.Abs(f.Arrivals-100) > 10: // (20 s, 25 s]
			t.Errorf("interval %d (20 s to 25 s): %v arrivals, want 100 within 10", k, f.Arrivals)
		case k != 4 && f.Arrivals > 10:
			t.Errorf("interval %d (%d s to %d s): %v arrivals, want about none", k, 5*k, 5*(k+1), f.Arrivals)
		}
	}
}
