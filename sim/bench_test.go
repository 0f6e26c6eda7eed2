package sim

import (
	"math"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// benchConfig is ten replicas of four slots at 80% utilisation: 320 requests/s.
func benchConfig() (Config, float64) {
	return Config{Seed: 1, MinReplicas: new(10), MaxReplicas: 10, Concurrency: 4}, 320
}

// BenchmarkSimulate runs one simulated hour per iteration and reports simulated
// requests and events per second of wall time.
func BenchmarkSimulate(b *testing.B) {
	cfg, rate := benchConfig()
	tr := &traces.Trace{Name: "flat", Bucket: time.Minute, Rates: make([]float64, 60)}
	for i := range tr.Rates {
		tr.Rates[i] = rate
	}
	var reqs, events int64
	b.ReportAllocs()
	for b.Loop() {
		s, err := New(cfg, tr)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, done := s.Step(10); done {
				break
			}
		}
		t := s.Totals()
		reqs += t.Arrived
		events += t.Events
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(reqs)/sec, "requests/s")
	b.ReportMetric(float64(events)/sec, "events/s")
}

// BenchmarkStep measures one control interval in steady state; it must report
// 0 allocs/op.
func BenchmarkStep(b *testing.B) {
	cfg, rate := benchConfig()
	tr := &traces.Trace{Name: "long", Bucket: time.Hour, Rates: make([]float64, 60000)} // within the 2^24 control intervals a run may hold
	for i := range tr.Rates {
		tr.Rates[i] = rate
	}
	s, err := New(cfg, tr)
	if err != nil {
		b.Fatal(err)
	}
	for range 240 {
		s.Step(10)
	}
	before := s.Totals()
	b.ReportAllocs()
	for b.Loop() {
		s.Step(10)
	}
	after := s.Totals()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(after.Arrived-before.Arrived)/sec, "requests/s")
	b.ReportMetric(float64(after.Events-before.Events)/sec, "events/s")
}

// BenchmarkRunTwoDays runs a two-day diurnal trace at 50 requests/s on average with
// a utilisation-threshold autoscaler, the size of a typical experiment run.
func BenchmarkRunTwoDays(b *testing.B) {
	tr := &traces.Trace{Name: "diurnal", Bucket: time.Minute, Rates: make([]float64, 2*24*60)}
	for i := range tr.Rates {
		tr.Rates[i] = 50 * (1 + 0.6*math.Sin(2*math.Pi*float64(i)/(24*60)))
	}
	var reqs int64
	b.ReportAllocs()
	for b.Loop() {
		res, err := Run(Config{Seed: 1, MaxReplicas: 20, InitialReplicas: 5}, tr, &threshold{})
		if err != nil {
			b.Fatal(err)
		}
		reqs += res.Totals.Arrived
	}
	b.ReportMetric(float64(reqs)/b.Elapsed().Seconds(), "requests/s")
}
