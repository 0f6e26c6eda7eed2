package sim

import (
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// Progress is called once per control interval with the virtual time reached,
// increasing, ending at the trace's end, and does not change the run.
func TestProgressOncePerStep(t *testing.T) {
	tr := &traces.Trace{Name: "flat", Bucket: time.Minute, Rates: []float64{20, 20, 20, 20, 20}}
	cfg := Config{Seed: 3, ControlInterval: 40 * time.Second}
	var calls []time.Duration
	withProgress := cfg
	withProgress.Progress = func(now, end time.Duration) {
		if end != tr.Duration() {
			t.Errorf("end %v, want %v", end, tr.Duration())
		}
		calls = append(calls, now)
	}
	a := staticScaler(2)
	got, err := Run(withProgress, tr, a)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Run(cfg, tr, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != len(got.Timeline) || len(calls) != 8 {
		t.Fatalf("%d calls for %d intervals, want 8 (5m in steps of 40s)", len(calls), len(got.Timeline))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] <= calls[i-1] {
			t.Fatalf("calls %v not increasing", calls)
		}
	}
	if calls[len(calls)-1] != tr.Duration() {
		t.Fatalf("last call at %v, want %v", calls[len(calls)-1], tr.Duration())
	}
	if got.Totals != want.Totals {
		t.Fatalf("Progress changed the run: %+v vs %+v", got.Totals, want.Totals)
	}
}
