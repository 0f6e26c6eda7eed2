package live

import (
	"context"
	"io"
	"testing"
	"time"
)

// BenchmarkControllerStep measures the controller's own work per decision (queries
// answered by a fake Prometheus): the floor under the decision latency.
func BenchmarkControllerStep(b *testing.B) {
	pol := rule(b, "threshold", "{upper: 0.7, lower: 0.3, cooldown_up: 0s, cooldown_down: 0s}", testSettings)
	vals := fresh(map[string]float64{})
	for _, q := range pol.Queries() {
		vals[q] = 0.5
	}
	c, err := NewController(ControllerConfig{Mode: Shadow, Max: 5}, pol, &fakeProm{vals: vals}, &fakeScaler{r: Replicas{Ready: 2}}, &fakeClock{now: time.Unix(0, 0)}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c.Step(context.Background())
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/decision")
}

// BenchmarkBalancerAcquire measures picking the least-outstanding of 5 replicas.
func BenchmarkBalancerAcquire(b *testing.B) {
	r := &fakeResolver{ips: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}}
	lb, _ := NewBalancer(BalancerConfig{}, r, nil)
	lb.Refresh(context.Background())
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		lb.release(lb.acquire(nil))
	}
}
