package sim

import (
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// TestCommonRandomNumbers: two policies run with one seed on one trace see the same
// arrivals, each with the same service time, however differently they scale. The
// policies below both keep every request out of a queue (ample replicas), so each
// response time is the request's service time: the sums agree to the bit only when
// the n-th request drew the same service time under both. The scaling one draws
// start-up delays and picks random replicas, which must not shift the other draws.
func TestCommonRandomNumbers(t *testing.T) {
	rates := make([]float64, 20)
	for i := range rates {
		rates[i] = 5 + float64(i%7)*3
	}
	tr := &traces.Trace{Name: "steps", Bucket: time.Minute, Rates: rates}
	cfg := Config{
		Seed:            7,
		ServiceTime:     Dist{Kind: "lognormal", Mean: 0.2, CV: 1},
		StartupDelay:    Dist{Kind: "exponential", Mean: 20},
		Balancer:        "random",
		InitialReplicas: 40,
		MaxReplicas:     80,
		ControlInterval: 15 * time.Second,
		Timeout:         time.Hour,
	}
	static := AutoscalerFunc(func(Observation) int { return 40 })
	n := 0
	churn := AutoscalerFunc(func(Observation) int { n++; return 40 + 10*(n%4) })
	a, err := Run(cfg, tr, static)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(cfg, tr, churn)
	if err != nil {
		t.Fatal(err)
	}
	if a.Totals.ReplicaSeconds == b.Totals.ReplicaSeconds {
		t.Fatalf("the two policies ran the same replicas: the test does not exercise scaling")
	}
	if a.Totals.Arrived != b.Totals.Arrived {
		t.Fatalf("arrivals: %d under a static count, %d under a scaling policy", a.Totals.Arrived, b.Totals.Arrived)
	}
	for i := range a.Timeline {
		if a.Timeline[i].Arrivals != b.Timeline[i].Arrivals {
			t.Fatalf("interval %d: %d arrivals under a static count, %d under a scaling policy", i, a.Timeline[i].Arrivals, b.Timeline[i].Arrivals)
		}
	}
	if a.Totals.WaitSeconds != 0 || b.Totals.WaitSeconds != 0 || a.Totals.Dropped+b.Totals.Dropped != 0 {
		t.Fatalf("requests queued or dropped (wait %g and %g s): response time is not service time", a.Totals.WaitSeconds, b.Totals.WaitSeconds)
	}
	if a.Totals.Completed != b.Totals.Completed || a.Totals.ResponseSeconds != b.Totals.ResponseSeconds {
		t.Fatalf("service: %d requests in %v s under a static count, %d in %v s under a scaling policy",
			a.Totals.Completed, a.Totals.ResponseSeconds, b.Totals.Completed, b.Totals.ResponseSeconds)
	}
}
