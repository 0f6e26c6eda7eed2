package elasticity_test

import (
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// TestDemandAgainstSimulator checks the demand definition against the simulator: at a
// constant rate, d replicas meet the SLO and d-1 do not, in most cases (the pooled
// queue model is an approximation of least-outstanding balancing, and a finite run
// is noisy).
func TestDemandAgainstSimulator(t *testing.T) {
	minutes := 20
	if testing.Short() {
		minutes = 8
	}
	services := []sim.Dist{
		{Kind: "exponential", Mean: 0.1},
		{Kind: "lognormal", Mean: 0.1, CV: 1.5},
	}
	rates := []float64{15, 40, 90, 160}
	run := func(svc sim.Dist, rate float64, n int) float64 {
		cfg := sim.Config{Seed: 11, ServiceTime: svc, MinReplicas: new(n), MaxReplicas: n, InitialReplicas: n}
		r := make([]float64, minutes)
		for i := range r {
			r[i] = rate
		}
		tr := &traces.Trace{Name: "flat", Bucket: time.Minute, Rates: r}
		res, err := sim.Run(cfg, tr, sim.AutoscalerFunc(func(sim.Observation) int { return n }))
		if err != nil {
			t.Fatal(err)
		}
		return res.Summary.SLOViolations / 100
	}
	total, agree := 0, 0
	for _, svc := range services {
		for _, rate := range rates {
			cfg := sim.Config{ServiceTime: svc}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			q := elasticity.Queue{ServiceMean: svc.MeanSeconds(), ServiceSCV: svc.SCV(), Slots: cfg.Concurrency,
				SLOLatency: cfg.SLO.Latency.Seconds(), SLOTarget: cfg.SLO.Target, MaxReplicas: cfg.MaxReplicas}
			d := elasticity.Demand(q, rate)
			eps := 1 - q.SLOTarget
			at := run(svc, rate, d)
			below := 1.0
			if d > 1 {
				below = run(svc, rate, d-1)
			}
			ok := at <= eps && below > eps
			t.Logf("%s cv %.1f rate %v: d=%d violations %.4f, d-1 violations %.4f ok=%v", svc.Kind, svc.CV, rate, d, at, below, ok)
			total++
			if ok {
				agree++
			}
			// Never far off: d must not be grossly under-provisioned.
			if at > 2*eps {
				t.Errorf("%s rate %v: d=%d gives %.1f%% violations", svc.Kind, rate, d, 100*at)
			}
		}
	}
	if agree*4 < total*3 {
		t.Errorf("demand agrees with the simulator in %d of %d cases, want at least 75%%", agree, total)
	}
}
