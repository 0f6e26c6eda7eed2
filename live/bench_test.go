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
