package fluid_test

import (
	"math"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/sim/fluid"
	"github.com/intelliscale/intelliscale/traces"
)

func flat(rate float64, d time.Duration) *traces.Trace {
	n := int(d / time.Minute)
	tr := &traces.Trace{Name: "flat", Bucket: time.Minute, Rates: make([]float64, n)}
	for i := range tr.Rates {
		tr.Rates[i] = rate
	}
	return tr
}

type counter struct{ last sim.Scrape }

func (c *counter) Record(s *sim.Scrape) { c.last = *s }

// TestConservationAndErlang: requests are conserved (arrived = completed + dropped +
// backlog); at a constant rate the share of requests slower than the SLO equals the
// M/M/k response tail; a static count below the load drops requests at the queue
// bound; deterministic for a seed.
func TestConservationAndErlang(t *testing.T) {
	cfg := sim.Config{InitialReplicas: 3, MaxReplicas: 20, Seed: 3}
	tr := flat(100, 2*time.Hour) // 100/s on 12 slots of 10/s: utilisation 0.83
	m, err := fluid.New(cfg, tr, fluid.Options{MeanArrivals: true})
	if err != nil {
		t.Fatal(err)
	}
	var rec counter
	m.SetRecorder(&rec)
	var viol, arr float64
	for {
		o, done := m.Step(3)
		viol += float64(o.SLOViolations)
		arr += float64(o.Arrivals)
		tot := m.Totals()
		if d := tot.Arrived - tot.Completed - tot.Dropped - tot.InFlight; d < -1 || d > 1 {
			t.Fatalf("at %v: arrived %d != completed %d + dropped %d + in flight %d", o.Time, tot.Arrived, tot.Completed, tot.Dropped, tot.InFlight)
		}
		if done {
			break
		}
	}
	c := cfg
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	q := elasticity.Queue{ServiceMean: 0.1, ServiceSCV: 1, Slots: 4, SLOLatency: 0.5, SLOTarget: 0.95, MaxReplicas: 20}
	want := elasticity.ResponseTail(q, 3, 100, c.SLO.Latency.Seconds())
	if got := viol / arr; math.Abs(got-want) > 0.002 {
		t.Fatalf("violation share %.4f, M/M/12 tail %.4f", got, want)
	}
	if rec.last.Time != 2*time.Hour || rec.last.Slots != 12 || rec.last.RequestsOK < 0.99*arr {
		t.Fatalf("last scrape %+v", rec.last)
	}

	// Overload: 3 replicas at 200/s drop what the queues cannot hold.
	m2, _ := fluid.New(cfg, flat(200, 10*time.Minute), fluid.Options{})
	for {
		if _, done := m2.Step(3); done {
			break
		}
	}
	tot := m2.Totals()
	if share := float64(tot.Dropped) / float64(tot.Arrived); share < 0.35 || share > 0.45 {
		t.Fatalf("overload drop share %.3f, want about 0.4 (capacity 120 of 200/s)", share)
	}
	// Same seed, same figures.
	run := func() sim.Totals {
		m, _ := fluid.New(cfg, flat(150, 30*time.Minute), fluid.Options{})
		for k := 0; ; k++ {
			if _, done := m.Step(2 + k%5); done {
				return m.Totals()
			}
		}
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("two runs differ: %+v %+v", a, b)
	}
}

// TestStartupDelay: a replica asked for serves nothing before the start-up delay.
func TestStartupDelay(t *testing.T) {
	cfg := sim.Config{InitialReplicas: 1, MaxReplicas: 20}
	m, _ := fluid.New(cfg, flat(10, 5*time.Minute), fluid.Options{})
	o, _ := m.Step(5)
	if o.Ready != 1 || o.Provisioning != 4 {
		t.Fatalf("after 15 s: %d ready, %d provisioning", o.Ready, o.Provisioning)
	}
	o, _ = m.Step(5)
	if o.Ready != 5 || o.Provisioning != 0 {
		t.Fatalf("after 30 s: %d ready, %d provisioning", o.Ready, o.Provisioning)
	}
	o, _ = m.Step(2)
	if o.Ready != 2 || o.Draining > 3 {
		t.Fatalf("after scaling down: %d ready, %d draining", o.Ready, o.Draining)
	}
}

// TestNoLatencyQuantiles: skipping the observation's quantiles changes nothing else
// (scrapes, counts, totals), and the quantiles are otherwise there.
func TestNoLatencyQuantiles(t *testing.T) {
	cfg := sim.Config{InitialReplicas: 2, MaxReplicas: 20, Seed: 4}
	run := func(skip bool) ([]sim.Observation, []sim.Scrape, sim.Totals) {
		m, err := fluid.New(cfg, flat(60, 30*time.Minute), fluid.Options{NoLatencyQuantiles: skip})
		if err != nil {
			t.Fatal(err)
		}
		var rec counter
		m.SetRecorder(&rec)
		var obs []sim.Observation
		var scrapes []sim.Scrape
		for k := 0; ; k++ {
			o, done := m.Step(1 + k%4)
			obs = append(obs, o)
			scrapes = append(scrapes, rec.last)
			if done {
				return obs, scrapes, m.Totals()
			}
		}
	}
	o1, s1, t1 := run(false)
	o2, s2, t2 := run(true)
	if t1 != t2 || len(o1) != len(o2) {
		t.Fatalf("totals %+v vs %+v, %d vs %d steps", t1, t2, len(o1), len(o2))
	}
	for i := range o1 {
		if o2[i].LatencyP50 != 0 || o2[i].LatencyP95 != 0 || o2[i].LatencyP99 != 0 {
			t.Fatalf("step %d: quantiles %+v with NoLatencyQuantiles", i, o2[i])
		}
		if o1[i].Completed > 0 && !(o1[i].LatencyP95 > 0) {
			t.Fatalf("step %d: p95 %v without NoLatencyQuantiles", i, o1[i].LatencyP95)
		}
		o1[i].LatencyP50, o1[i].LatencyP95, o1[i].LatencyP99 = 0, 0, 0
		if o1[i] != o2[i] || s1[i].Time != s2[i].Time || s1[i].RequestsOK != s2[i].RequestsOK || s1[i].DurationBuckets != s2[i].DurationBuckets {
			t.Fatalf("step %d differs: %+v vs %+v", i, o1[i], o2[i])
		}
	}
}
