package features

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/sim"
)

// syntheticScrapes makes irregular scrapes (gaps of 1-70 s, so that rate's 1.1x
// extrapolation threshold and the 5-minute lookback both matter), counters with
// resets (a restarted instance), and histogram buckets that occasionally lose
// monotonicity by a hair (float noise) or by a lot.
func syntheticScrapes(seed uint64, n int) []sim.Scrape {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []sim.Scrape
	var s sim.Scrape
	t := time.Duration(0)
	for i := range n {
		gap := time.Duration(1000+rng.IntN(69000)) * time.Millisecond
		if rng.IntN(40) == 0 {
			gap += 6 * time.Minute // a scrape outage longer than the lookback
		}
		t += gap
		s.Time = t
		if rng.IntN(50) == 0 { // counter reset
			s.RequestsOK, s.RequestsRejected, s.BusySeconds = 0, 0, 0
			s.DurationBuckets = [len(sim.DefBuckets)]float64{}
			s.DurationCount, s.DurationSum = 0, 0
		}
		ok := float64(rng.IntN(500))
		s.RequestsOK += ok
		s.RequestsRejected += float64(rng.IntN(3) * rng.IntN(20))
		s.RequestsTimedOut += float64(rng.IntN(2))
		cum := 0.0
		for b := range s.DurationBuckets {
			cum += ok * rng.Float64() / float64(len(s.DurationBuckets))
			s.DurationBuckets[b] += cum
		}
		s.DurationCount += ok
		s.DurationSum += ok * 0.2
		if i%17 == 3 {
			s.DurationBuckets[4] *= 1 + 1e-13 // float noise the monotonicity fix absorbs
		}
		s.BusySeconds += gap.Seconds() * float64(rng.IntN(16))
		s.Slots = float64(4 * rng.IntN(6))
		s.Queued = float64(rng.IntN(30))
		s.InFlight = s.Queued + float64(rng.IntN(20))
		s.Ready = float64(rng.IntN(6))
		s.Provisioning = float64(rng.IntN(3))
		s.Draining = float64(rng.IntN(2))
		s.Desired = s.Ready + s.Provisioning
		out = append(out, s)
	}
	return out
}

// TestNativeMatchesPromQLIrregular compares both paths on irregular synthetic scrapes,
// evaluating at random times between and at scrapes, with an extra spec exercising
// the other supported constructs.
func TestNativeMatchesPromQLIrregular(t *testing.T) {
	spec := Default(0.3)
	spec.Features = append(spec.Features,
		Feature{Name: "inc", Expr: `sum(increase(http_requests_total{code!="504"}[2m] offset 30s))`},
		Feature{Name: "delta_q", Expr: `max(delta(http_requests_queued[3m]))`},
		Feature{Name: "deriv_busy", Expr: `sum(deriv(app_worker_busy_seconds_total[5m]))`},
		Feature{Name: "over_time", Expr: `sum(avg_over_time(http_requests_in_flight[2m])) + min(max_over_time(intelliscale_replicas[1m])) - count(count_over_time(intelliscale_replicas[1m]))`},
		Feature{Name: "sub", Expr: `max_over_time(sum(http_requests_queued)[3m:20s] offset 1m) + avg_over_time(sum(rate(http_requests_total[1m]))[2m:30s]) + deriv(sum(http_requests_queued)[4m:10s])`},
		Feature{Name: "clamped", Expr: `clamp(sum(http_requests_queued) - 10, -3, 3) + clamp_min(sum(app_worker_slots), 5) * clamp_max(sum(last_over_time(intelliscale_desired_replicas[2m])), 4)`},
		Feature{Name: "cmp", Expr: `(sum(http_requests_queued) > bool 10) + scalar(sum(app_worker_slots)) ^ 0.5 - abs(-sum(intelliscale_replicas{state=~"ready|draining"})) % 3`},
		Feature{Name: "p50", Expr: `histogram_quantile(0.5, sum by (le) (increase(http_request_duration_seconds_bucket{le!="0.1"}[90s])))`},
		Feature{Name: "p99", Expr: `histogram_quantile(0.99, sum by (le) (http_request_duration_seconds_bucket))`},
	)
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	epoch := time.Date(2023, 7, 1, 12, 0, 0, 0, time.UTC)
	ev, err := NewEvaluator(spec, epoch)
	if err != nil {
		t.Fatal(err)
	}
	st := NewStorage(epoch)
	eng := NewEngine()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 3))
	vals := make([]float64, len(spec.Features))
	ok := make([]bool, len(spec.Features))
	present := make([]int, len(spec.Features))
	checks := 0
	for _, sc := range syntheticScrapes(11, 400) {
		ev.Record(&sc)
		st.Record(&sc)
		// Evaluate at the scrape and, sometimes, a little after it.
		for _, d := range []time.Duration{0, time.Duration(rng.IntN(20000)) * time.Millisecond} {
			at := sc.Time + d
			if err := EvalPromQL(ctx, eng, st, spec, time.UnixMilli(st.Millis(at)), vals, ok); err != nil {
				t.Fatal(err)
			}
			for i, f := range spec.Features {
				nv, nok := ev.Raw(i, at)
				if nok != ok[i] || nok && !relClose(nv, vals[i]) {
					t.Fatalf("t=%v feature %s: native %v (ok %v), promql %v (ok %v)", at, f.Name, nv, nok, vals[i], ok[i])
				}
				if nok {
					present[i]++
				}
			}
			checks++
		}
	}
	for i, f := range spec.Features {
		if present[i] < checks/4 {
			t.Errorf("feature %s had a value in only %d of %d checks", f.Name, present[i], checks)
		}
	}
}
