package sim

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// erlangC is the probability that an arrival waits in an M/M/c queue with offered
// load a = λ/μ (a < c), computed from the textbook formula.
func erlangC(c int, a float64) float64 {
	sum, term := 0.0, 1.0 // term = a^k / k!
	for k := 0; k < c; k++ {
		sum += term
		term *= a / float64(k+1)
	}
	top := term * float64(c) / (float64(c) - a) // a^c/c! * c/(c-a)
	return top / (sum + top)
}

func TestErlangCFormula(t *testing.T) {
	// Hand-checked values: M/M/1 waits with probability rho; M/M/2 at a=1 gives 1/3.
	if got := erlangC(1, 0.8); math.Abs(got-0.8) > 1e-12 {
		t.Fatalf("erlangC(1, 0.8) = %v, want 0.8", got)
	}
	if got := erlangC(2, 1); math.Abs(got-1.0/3) > 1e-12 {
		t.Fatalf("erlangC(2, 1) = %v, want 1/3", got)
	}
}

// flat is a constant-rate trace of the given length.
func flat(rate float64, d time.Duration) *traces.Trace {
	return &traces.Trace{Name: "flat", Bucket: d, Rates: []float64{rate}}
}

// runSteps steps s with a constant desired count until done and returns the rows.
func runSteps(s *Sim, desired int) []Row {
	var rows []Row
	for {
		_, done := s.Step(desired)
		rows = append(rows, s.row)
		if done {
			return rows
		}
	}
}

// TestErlangC checks the mean waiting time of M/M/c against the Erlang-C formula
// Wq = C(c, a) / (cμ - λ): one replica with c worker slots and one FIFO queue is an
// M/M/c queue. Runs are long (millions of requests) so that the estimate is within
// the 2% tolerance by a margin of several standard errors.
func TestErlangC(t *testing.T) {
	const mu = 10.0 // exponential service, mean 0.1 s
	cases := []struct {
		c        int
		rho      float64
		requests float64
	}{
		{1, 0.5, 1.5e6},
		{1, 0.8, 5e6},
		{1, 0.9, 8e6},
		{4, 0.5, 2e6},
		{4, 0.8, 3e6},
		{4, 0.9, 12e6},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("M/M/%d/rho=%v", tc.c, tc.rho), func(t *testing.T) {
			t.Parallel()
			lambda := tc.rho * float64(tc.c) * mu
			dur := time.Duration(tc.requests / lambda * float64(time.Second))
			cfg := Config{
				Seed: 7, Concurrency: tc.c, MinReplicas: new(1), MaxReplicas: 1,
				QueueCapacity: new(1 << 30), Timeout: 1000 * time.Hour,
				ControlInterval: time.Hour,
			}
			s, err := New(cfg, flat(lambda, dur))
			if err != nil {
				t.Fatal(err)
			}
			runSteps(s, 1)
			tot := s.Totals()
			if tot.Dropped != 0 {
				t.Fatalf("dropped %d requests, want 0", tot.Dropped)
			}
			got := tot.WaitSeconds / float64(tot.Started)
			want := erlangC(tc.c, lambda/mu) / (float64(tc.c)*mu - lambda)
			if rel := math.Abs(got-want) / want; rel > 0.02 {
				t.Errorf("mean wait %.5f s, Erlang-C %.5f s: off by %.2f%% (> 2%%) over %d requests", got, want, 100*rel, tot.Started)
			} else {
				t.Logf("mean wait %.5f s, Erlang-C %.5f s (%.2f%%), %d requests", got, want, 100*rel, tot.Started)
			}
		})
	}
}

// TestLittlesLaw checks L = λW over a run with several replicas, a varying rate and
// scaling: time-average in flight against throughput times mean response time.
func TestLittlesLaw(t *testing.T) {
	tr := &traces.Trace{Name: "steps", Bucket: 10 * time.Minute, Rates: []float64{40, 90, 150, 60, 120, 20}}
	cfg := Config{
		Seed: 3, Concurrency: 2, MinReplicas: new(1), MaxReplicas: 10, InitialReplicas: 4,
		QueueCapacity: new(1 << 20), Timeout: 1000 * time.Hour, DrainGrace: 1000 * time.Hour,
		ServiceTime: Dist{Kind: LogNormal, Mean: 0.05, CV: 2},
	}
	s, err := New(cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	step := 0
	for {
		// Follow the rate loosely so replicas are added and drained during the run.
		_, done := s.Step(2 + int(tr.RateAt(s.Now())/25))
		step++
		if done {
			break
		}
	}
	tot := s.Totals()
	T := s.Now().Seconds()
	if tot.Dropped != 0 {
		t.Fatalf("dropped %d, want 0", tot.Dropped)
	}
	L := tot.InFlightSeconds / T
	lambda := float64(tot.Completed) / T
	W := tot.ResponseSeconds / float64(tot.Completed)
	if rel := math.Abs(L-lambda*W) / L; rel > 0.005 {
		t.Errorf("Little's law: L = %.5f, λW = %.5f·%.5f = %.5f: off by %.3f%%", L, lambda, W, lambda*W, 100*rel)
	}
}
