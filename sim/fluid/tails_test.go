package fluid

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// Bounds on the interpolated stationary tails against the exact ones, per control
// interval: the histogram's p95 within 0.1% (relative) and the violation share within
// 0.05 points.
const (
	maxTailP95Rel  = 0.001
	maxTailViolAbs = 0.0005
)

// histogram keeps the scrapes' cumulative duration buckets.
type histogram struct {
	buckets [][len(sim.DefBuckets)]float64
	counts  []float64
}

func (h *histogram) Record(s *sim.Scrape) {
	h.buckets = append(h.buckets, s.DurationBuckets)
	h.counts = append(h.counts, s.DurationCount)
}

// p95 is the 95th percentile of the completions between scrapes i-1 and i, by linear
// interpolation within the buckets (histogram_quantile); NaN when none completed.
func (h *histogram) p95(i int) float64 {
	var prev [len(sim.DefBuckets)]float64
	prevN := 0.0
	if i > 0 {
		prev, prevN = h.buckets[i-1], h.counts[i-1]
	}
	n := h.counts[i] - prevN
	if !(n > 0) {
		return math.NaN()
	}
	rank := 0.95 * n
	lo, below := 0.0, 0.0
	for j, b := range sim.DefBuckets {
		c := h.buckets[i][j] - prev[j]
		if c >= rank {
			return lo + (b-lo)*(rank-below)/math.Max(c-below, 1e-300)
		}
		lo, below = b, c
	}
	return lo
}

// TestTailTableAgainstExact runs the model with the tabulated stationary tails and
// with the exact ones (partTail) on the four built-in traces and on 1 s-bucket
// traffic at about 10 and 100 replicas, with the lognormal service of the benchmark
// (experiments/configs/default.yaml) and a schedule that under-provisions part of the
// time, and bounds the per-interval differences of the histogram's p95 and of the
// violation share; with exponential service the scrapes are the same bits.
func TestTailTableAgainstExact(t *testing.T) {
	type tcase struct {
		name string
		tr   *traces.Trace
	}
	var cases []tcase
	for _, name := range []string{"diurnal-weekly", "bursty", "step", "onoff"} {
		spec, err := traces.DefaultSpec(name)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := traces.Synthesize(spec, traces.DefaultSeed)
		if err != nil {
			t.Fatal(err)
		}
		if tr, err = traces.ScaleMean(tr, 100); err != nil {
			t.Fatal(err)
		}
		if tr, err = traces.Slice(tr, 24*time.Hour, 30*time.Hour); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tcase{name, tr})
	}
	for _, rate := range []float64{30, 300} {
		tr, err := traces.Synthesize(traces.SynthSpec{Name: "fine", Duration: 90 * time.Minute, Bucket: time.Second,
			BaseRate: rate, Diurnal: traces.Diurnal{Amplitude: 0.3, PeakHour: 14},
			Bursts: traces.Bursts{PerDay: 48, Magnitude: 1, Duration: 3 * time.Minute},
			Noise:  traces.Noise{Kind: traces.NoiseLognormal, Sigma: 0.15}}, 3)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, tcase{fmt.Sprintf("1s buckets at %v/s", rate), tr})
	}
	lognormal := sim.Config{MaxReplicas: 300, Concurrency: 1, ServiceTime: sim.Dist{Kind: sim.LogNormal, Mean: 0.25, CV: 0.5},
		StartupDelay: sim.Dist{Kind: sim.Constant, Mean: 30}, SLO: sim.SLO{Latency: time.Second, Target: 0.95}, Seed: 5}
	exponential := sim.Config{MaxReplicas: 300, Seed: 5}
	for _, c := range cases {
		for _, cfg := range []sim.Config{lognormal, exponential} {
			var runs [2]struct {
				h    histogram
				viol []float64
			}
			probe, err := New(cfg, c.tr, Options{})
			if err != nil {
				t.Fatal(err)
			}
			q := probe.q
			// The demand at 1.15 times the rate at the interval's start, 20% short every
			// other 20 minutes.
			demand := func(at time.Duration, i int) int {
				d := elasticity.Demand(q, 1.15*c.tr.RateAt(at))
				if i/80%2 == 1 {
					d = d * 4 / 5
				}
				return max(d, 1)
			}
			cfg.InitialReplicas = demand(0, 0)
			for k, exact := range []bool{true, false} {
				m, err := New(cfg, c.tr, Options{NoLatencyQuantiles: true})
				if err != nil {
					t.Fatal(err)
				}
				m.exactTails = exact
				m.SetRecorder(&runs[k].h)
				for i, done := 0, false; !done; i++ {
					_, done = m.Step(demand(m.Now(), i))
					runs[k].viol = append(runs[k].viol, m.win.violations/math.Max(m.win.arrivals, 1))
				}
			}
			ex, fast := &runs[0], &runs[1]
			if cfg.ServiceTime.Kind != sim.LogNormal {
				for i := range ex.h.buckets {
					if ex.h.buckets[i] != fast.h.buckets[i] || ex.viol[i] != fast.viol[i] {
						t.Fatalf("%s, exponential service: scrape %d differs: %v and %v", c.name, i, ex.h.buckets[i], fast.h.buckets[i])
					}
				}
				continue
			}
			var worstP95, worstViol float64
			for i := range ex.viol {
				worstViol = math.Max(worstViol, math.Abs(ex.viol[i]-fast.viol[i]))
			}
			for i := range ex.h.buckets {
				if a, b := ex.h.p95(i), fast.h.p95(i); !math.IsNaN(a) {
					worstP95 = math.Max(worstP95, math.Abs(a-b)/a)
				}
			}
			t.Logf("%-22s lognormal service: %d intervals, max p95 difference %.2g (relative), max violation share difference %.2g points",
				c.name, len(ex.viol), worstP95, 100*worstViol)
			if worstP95 > maxTailP95Rel || worstViol > maxTailViolAbs {
				t.Errorf("%s: p95 %.3g relative, violation share %.3g points apart; want within %g and %g",
					c.name, worstP95, 100*worstViol, maxTailP95Rel, 100*maxTailViolAbs)
			}
		}
	}
}

// TestStepAllocationFree: a step at a held count on 1 s-bucket traffic with
// lognormal service allocates nothing, the tail table's nodes included.
func TestStepAllocationFree(t *testing.T) {
	tr, err := traces.Synthesize(traces.SynthSpec{Name: "fine", Duration: 2 * time.Hour, Bucket: time.Second, BaseRate: 100,
		Noise: traces.Noise{Kind: traces.NoiseLognormal, Sigma: 0.15}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(sim.Config{MaxReplicas: 100, Concurrency: 1, ServiceTime: sim.Dist{Kind: sim.LogNormal, Mean: 0.25, CV: 0.5},
		InitialReplicas: 40, SLO: sim.SLO{Latency: time.Second, Target: 0.95}}, tr, Options{NoLatencyQuantiles: true})
	if err != nil {
		t.Fatal(err)
	}
	m.Step(40)
	if a := testing.AllocsPerRun(100, func() { m.Step(40) }); a != 0 {
		t.Fatalf("%v allocations per step, want 0", a)
	}
}
