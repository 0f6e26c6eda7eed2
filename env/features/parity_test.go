package features

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// testTraces are three small traces of different shapes: a ramp with a burst, a
// daily-like wave starting at a known wall-clock time, and on/off traffic with
// silent gaps (no requests: the features' no-data and 0/0 paths).
func testTraces() []*traces.Trace {
	const n = 120 // 2 h of 1-minute buckets
	ramp := make([]float64, n)
	wave := make([]float64, n)
	onoff := make([]float64, n)
	for i := range n {
		ramp[i] = 5 + float64(i)*0.8
		if i >= 60 && i < 70 {
			ramp[i] *= 3
		}
		wave[i] = 40 + 35*math.Sin(2*math.Pi*float64(i)/45)
		if (i/15)%2 == 0 {
			onoff[i] = 60
		}
	}
	return []*traces.Trace{
		{Name: "ramp", Bucket: time.Minute, Rates: ramp},
		{Name: "wave", Bucket: time.Minute, Rates: wave, Start: time.Date(2024, 3, 5, 22, 13, 0, 0, time.UTC)},
		{Name: "onoff", Bucket: time.Minute, Rates: onoff},
	}
}

type tee []sim.Recorder

func (t tee) Record(s *sim.Scrape) {
	for _, r := range t {
		r.Record(s)
	}
}

// relClose reports whether a and b agree to a relative 1e-9 (exact for zero, both NaN
// or equal infinities).
func relClose(a, b float64) bool {
	if a == b || math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	d := math.Abs(a - b)
	return d <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// TestNativeMatchesPromQL runs whole simulations driven by a jumpy random policy and, at
// every control step, evaluates every default feature natively and with the
// Prometheus engine over the recorded series, requiring the same values.
func TestNativeMatchesPromQL(t *testing.T) {
	spec := Default(0.5)
	eng := NewEngine()
	ctx := context.Background()
	for ti, tr := range testTraces() {
		t.Run(tr.Name, func(t *testing.T) {
			epoch := tr.Start
			if epoch.IsZero() {
				epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			ev, err := NewEvaluator(spec, epoch)
			if err != nil {
				t.Fatal(err)
			}
			st := NewStorage(epoch)
			s, err := sim.New(sim.Config{Seed: uint64(ti + 1), MaxReplicas: 20, InitialReplicas: 2}, tr)
			if err != nil {
				t.Fatal(err)
			}
			s.SetRecorder(tee{ev, st})
			rng := rand.New(rand.NewPCG(uint64(ti), 7))
			desired := 2
			vals := make([]float64, len(spec.Features))
			ok := make([]bool, len(spec.Features))
			steps, present := 0, make([]int, len(spec.Features))
			for done := false; !done; {
				var obs sim.Observation
				desired = min(max(desired+rng.IntN(7)-3, 1), 20)
				obs, done = s.Step(desired)
				ts := time.UnixMilli(st.Millis(obs.Time))
				if err := EvalPromQL(ctx, eng, st, spec, ts, vals, ok); err != nil {
					t.Fatal(err)
				}
				for i, f := range spec.Features {
					nv, nok := ev.Raw(i, obs.Time)
					if nok != ok[i] || nok && !relClose(nv, vals[i]) {
						t.Fatalf("step %d t=%v feature %s: native %v (ok %v), promql %v (ok %v)", steps, obs.Time, f.Name, nv, nok, vals[i], ok[i])
					}
					if nok && !math.IsNaN(nv) {
						present[i]++
					}
				}
				steps++
			}
			if steps < 400 {
				t.Fatalf("only %d steps", steps)
			}
			// Every feature must have produced real values, or the comparison is vacuous.
			for i, f := range spec.Features {
				if present[i] < steps/3 {
					t.Errorf("feature %s had a value at only %d of %d steps", f.Name, present[i], steps)
				}
			}
		})
	}
}
