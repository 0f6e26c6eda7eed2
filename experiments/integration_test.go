package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestRealBackendDeterministic runs a small experiment on the real simulator, rule
// policies and synthesizer: 1 and 2 workers give identical bytes, and the figures
// obey basic accounting.
func TestRealBackendDeterministic(t *testing.T) {
	const conf = `name: real-small
seeds: [1, 2]
sim: {max_replicas: 20, startup_delay: {kind: exponential, mean: 20}}
traces:
  - name: wave
    synth: {duration: 3h, bucket: 1m, base_rate: 120, diurnal: {amplitude: 0.5, peak_hour: 1}}
policies:
  - {name: threshold, kind: threshold}
  - {name: hpa-tuned, kind: hpa-tuned, tune: {grid: [0.5, 0.8]}}
  - {name: oracle, kind: oracle}
`
	cfg, err := Parse([]byte(conf), "real-small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, w := range []int{1, 2} {
		d := t.TempDir()
		r := &Runner{Config: cfg, Out: d, Backend: DefaultBackend(), Workers: w}
		if _, err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	sameTrees(t, tree(t, dirs[0]), tree(t, dirs[1]), "real backend, 1 vs 2 workers")
	data, err := os.ReadFile(filepath.Join(dirs[0], "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ReadSummary(bytes.NewReader(data), "summary.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3*2*2 {
		t.Fatalf("%d rows, want 12", len(rows))
	}
	for _, r := range rows {
		m := r.Metrics
		// Validation and test windows are 20% of 3h = 36 min each, and at least one
		// replica is always billed.
		const minCost = 36.0 / 60
		if float64(m["cost"]) < minCost*0.99 {
			t.Errorf("%s: cost %v below %v replica-hours", r.Cell, m["cost"], minCost)
		}
		if v := float64(m["slo_violations"]); v < float64(m["drop_rate"]) || v > 100 {
			t.Errorf("%s: SLO violations %v outside [drop rate %v, 100]", r.Cell, v, m["drop_rate"])
		}
		if a := float64(m["accuracy"]); a < 0 || a > 100 {
			t.Errorf("%s: accuracy %v", r.Cell, a)
		}
	}
	tl, err := ReadTable(filepath.Join(dirs[0], "cells", "wave__oracle__1__test", "timeline.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// 36 minutes at a 15 s control interval.
	if tl.Len != 144 || tl.Columns["ready"] == nil || tl.Columns["demand"] == nil {
		t.Errorf("timeline: %d rows, columns %v", tl.Len, len(tl.Columns))
	}
	// Common random numbers: on one window with one seed every policy meets the
	// same requests, interval by interval, however differently it scales.
	for _, pol := range []string{"threshold", "hpa-tuned"} {
		other, err := ReadTable(filepath.Join(dirs[0], "cells", "wave__"+pol+"__1__test", "timeline.csv"))
		if err != nil {
			t.Fatal(err)
		}
		a, b := tl.Columns["arrivals"], other.Columns["arrivals"]
		if len(a) != len(b) || len(a) == 0 {
			t.Fatalf("arrivals columns of %d and %d rows", len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("interval %d of the test window, seed 1: %v arrivals under oracle, %v under %s", i, a[i], b[i], pol)
			}
		}
	}
}

// TestRealTracesLoad loads the traces of configs/real.yaml from ../shared/traces (or
// $INTELLISCALE_TRACES) and checks the crop, the rescaling and the windows.
func TestRealTracesLoad(t *testing.T) {
	cfg, err := Load("configs/real.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range cfg.Traces {
		if _, err := os.Stat(spec.File); err != nil {
			t.Skipf("real traces not available (%v): they live in ../shared/traces beside the repository or in $INTELLISCALE_TRACES", err)
		}
		tr, err := loadTrace(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
		if d, want := tr.Duration(), spec.Length; d != want {
			t.Errorf("%s: %v after the %v crop", spec.Name, d, want)
		}
		var sum float64
		for _, r := range tr.Rates {
			sum += r
		}
		if mean := sum / float64(len(tr.Rates)); mean < spec.ScaleMean*0.999 || mean > spec.ScaleMean*1.001 {
			t.Errorf("%s: mean rate %v, want %v", spec.Name, mean, spec.ScaleMean)
		}
		b, err := windowBounds(spec, len(tr.Rates), tr.Bucket)
		if err != nil {
			t.Fatal(err)
		}
		if b[SplitTrain].To != b[SplitValidation].From || b[SplitValidation].To != b[SplitTest].From || b[SplitTest].To != len(tr.Rates) {
			t.Errorf("%s: windows %v do not tile the trace", spec.Name, b)
		}
	}
}
