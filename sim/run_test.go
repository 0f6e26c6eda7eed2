package sim

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/traces"
)

// threshold scales on utilisation: a small deterministic policy for run tests.
type threshold struct{ calls []Observation }

func (p *threshold) Decide(o Observation) int {
	p.calls = append(p.calls, o)
	n := o.Ready + o.Provisioning
	switch {
	case o.Utilisation > 0.8:
		return n + 1
	case o.Utilisation < 0.4 && o.Provisioning == 0:
		return n - 1
	}
	return n
}

func TestRun(t *testing.T) {
	cfg := busyConfig(8)
	cfg.Balancer = ""
	tr := wavyTrace()
	p := &threshold{}
	res, err := Run(cfg, tr, p)
	if err != nil {
		t.Fatal(err)
	}
	steps := int(tr.Duration() / (15 * time.Second))
	if len(res.Timeline) != steps || len(p.calls) != steps {
		t.Fatalf("%d rows, %d decisions, want %d", len(res.Timeline), len(p.calls), steps)
	}
	o0 := p.calls[0]
	if o0.Time != 0 || o0.Window != 0 || o0.Ready != cfg.InitialReplicas || o0.Arrivals != 0 || !math.IsNaN(o0.LatencyP50) {
		t.Errorf("first observation %+v", o0)
	}
	q := elasticity.Queue{ServiceMean: 0.2, ServiceSCV: 2.25, Slots: 2, SLOLatency: 0.5, SLOTarget: 0.95, MaxReplicas: 8}
	var arrived, viol int
	for i, r := range res.Timeline {
		if i+1 < steps {
			// Row i's Desired is the decision taken on the observation at its end.
			next := p.calls[i+1]
			if next.Time != r.Time || next.Arrivals != r.Arrivals {
				t.Fatalf("row %d at %v, decision %d saw time %v", i, r.Time, i+1, next.Time)
			}
			want := min(max(p.Decide(next), 1), 8)
			p.calls = p.calls[:len(p.calls)-1]
			if r.Desired != want {
				t.Fatalf("row %d: desired %d, decision %d", i, r.Desired, want)
			}
		}
		if d := elasticity.Demand(q, r.ArrivalRate); r.Demand != d {
			t.Fatalf("row %d: demand %d, elasticity.Demand %d", i, r.Demand, d)
		}
		arrived += r.Arrivals
		viol += r.SLOViolations
	}
	if int64(arrived) != res.Totals.Arrived {
		t.Errorf("rows sum to %d arrivals, totals %d", arrived, res.Totals.Arrived)
	}
	s := res.Summary
	if math.Abs(s.Cost-res.Totals.Cost) > 1e-12 || s.Cost <= 0 {
		t.Errorf("summary cost %v, totals %v", s.Cost, res.Totals.Cost)
	}
	if s.P50 != res.Latency.Quantile(0.5) || s.P99 != res.Latency.Quantile(0.99) || !(s.P50 <= s.P95 && s.P95 <= s.P99) {
		t.Errorf("summary quantiles %v %v %v", s.P50, s.P95, s.P99)
	}
	if res.Latency.Count() != uint64(res.Totals.Completed) {
		t.Errorf("histogram holds %d, completed %d", res.Latency.Count(), res.Totals.Completed)
	}
	if want := 100 * float64(viol) / float64(arrived); math.Abs(s.SLOViolations-want) > 1e-9 {
		t.Errorf("SLO violations %v%%, rows give %v%%", s.SLOViolations, want)
	}
	if res.Config.Balancer != LeastOutstanding {
		t.Errorf("result config not validated: balancer %q", res.Config.Balancer)
	}

	// Same inputs, same bytes.
	res2, err := Run(cfg, tr, &threshold{})
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := WriteTimelineCSV(&a, res.Timeline); err != nil {
		t.Fatal(err)
	}
	if err := WriteTimelineCSV(&b, res2.Timeline); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("two runs with the same seed gave different timelines")
	}
}

func TestRunErrors(t *testing.T) {
	if _, err := Run(Config{Concurrency: -1}, flat(1, time.Minute), &threshold{}); err == nil {
		t.Error("bad config accepted")
	}
	if _, err := Run(Config{}, &traces.Trace{Name: "empty", Bucket: time.Second}, &threshold{}); err == nil {
		t.Error("empty trace accepted")
	}
	if _, err := New(Config{}, nil); err == nil {
		t.Error("nil trace accepted")
	}
}

// TestMemoryBounded: the request pool is bounded by the requests in the system at
// once, not by the number simulated.
func TestMemoryBounded(t *testing.T) {
	cfg, rate := benchConfig()
	s, err := New(cfg, flat(rate, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	runSteps(s, 10)
	limit := cfg.MaxReplicas * (4 + 100)
	if n := len(s.reqs); n > limit || s.Totals().Arrived < 1e6 {
		t.Errorf("%d request records after %d requests; bound %d", n, s.Totals().Arrived, limit)
	}
}

// countingPolicy is an autoscaler that also records scrapes.
type countingPolicy struct {
	scrapes int
	last    time.Duration
}

func (p *countingPolicy) Decide(Observation) int { return 1 }
func (p *countingPolicy) Record(s *Scrape)       { p.scrapes++; p.last = s.Time }

type scrapeCounter struct{ n int }

func (c *scrapeCounter) Record(*Scrape) { c.n++ }

func TestRunHandsScrapesToRecordingAutoscaler(t *testing.T) {
	tr := &traces.Trace{Name: "flat", Bucket: time.Minute, Rates: []float64{5, 5, 5, 5}}
	p := &countingPolicy{}
	extra := &scrapeCounter{}
	if _, err := RunRecorded(Config{Seed: 3}, tr, p, extra); err != nil {
		t.Fatal(err)
	}
	// 4 minutes scraped every 15 s: 16 scrapes, each handed to both recorders.
	if p.scrapes != 16 || extra.n != 16 {
		t.Fatalf("scrapes: autoscaler %d, extra recorder %d, want 16 each", p.scrapes, extra.n)
	}
	if p.last != 4*time.Minute {
		t.Fatalf("last scrape at %v, want 4m", p.last)
	}
}

// TestRunSupplyIsReadyDuringInterval: the elasticity supply s_t counts the replicas
// Ready during interval t, not those Ready at its end. Three replicas asked for at
// t = 0 with a constant 30 s start-up are Ready at 30 s, the end of the second
// 15 s interval: that interval had one Ready replica throughout, so it is
// under-provisioned like the first.
func TestRunSupplyIsReadyDuringInterval(t *testing.T) {
	const rate, n = 80.0, 10 // requests per second; control intervals
	tr := &traces.Trace{Name: "even", Bucket: 15 * time.Second, Rates: make([]float64, n)}
	for i := range tr.Rates {
		tr.Rates[i] = rate
	}
	for i := range int(rate * 15 * n) {
		tr.Arrivals = append(tr.Arrivals, time.Duration((float64(i)+0.5)/rate*1e9))
	}
	cfg := Config{MinReplicas: new(1), MaxReplicas: 5, InitialReplicas: 1}
	q := elasticity.Queue{ServiceMean: DefaultServiceMean, ServiceSCV: 1, Slots: DefaultConcurrency,
		SLOLatency: DefaultSLOLatency.Seconds(), SLOTarget: DefaultSLOTarget, MaxReplicas: 5}
	if d := elasticity.Demand(q, rate); d != 3 {
		t.Fatalf("test set-up: demand at %v/s is %d, want 3", rate, d)
	}
	res, err := Run(cfg, tr, AutoscalerFunc(func(Observation) int { return 3 }))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Timeline {
		if r.Demand != 3 {
			t.Fatalf("row %d: demand %d, want 3 (exact arrivals at %v/s)", i, r.Demand, rate)
		}
		want := 3
		if i < 2 {
			want = 1
		}
		if r.Supply != want {
			t.Errorf("row %d (end %v): supply %d, want %d (ready at end %d)", i, r.Time, r.Supply, want, r.Ready)
		}
	}
	// Two of ten intervals short by 2 of 3.
	s := res.Summary
	if math.Abs(s.TauU-20) > 1e-9 || math.Abs(s.ThetaU-100*(2*2.0/3)/n) > 1e-9 {
		t.Errorf("tau_U %v%%, theta_U %v%%: want 20%% and %v%%", s.TauU, s.ThetaU, 100*(2*2.0/3)/n)
	}
}
