package elasticity

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"testing"
)

// erlangCSlow is the textbook formula with factorials, for small c.
func erlangCSlow(c int, a float64) float64 {
	sum := 0.0
	term := 1.0
	for k := 0; k < c; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	last := term * a / float64(c) * float64(c) / (float64(c) - a) // a^c/c! * c/(c-a)
	return last / (sum + last)
}

func TestErlangCHandValues(t *testing.T) {
	cases := []struct {
		c    int
		a    float64
		want float64
	}{
		{1, 0.5, 0.5}, // M/M/1: C = rho
		{2, 1, 1.0 / 3},
		{3, 2, 4.0 / 9},
		{2, 0, 0},
		{2, 2, 1}, // unstable
		{2, 3, 1},
	}
	for _, tc := range cases {
		if got := ErlangC(tc.c, tc.a); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("ErlangC(%d, %v) = %v, want %v", tc.c, tc.a, got, tc.want)
		}
	}
	if got := ErlangB(2, 1); math.Abs(got-0.2) > 1e-12 {
		t.Errorf("ErlangB(2, 1) = %v, want 0.2", got)
	}
}

func TestErlangCMatchesFactorialFormula(t *testing.T) {
	for c := 1; c <= 30; c++ {
		for _, rho := range []float64{0.1, 0.5, 0.8, 0.95, 0.999} {
			a := rho * float64(c)
			got, want := ErlangC(c, a), erlangCSlow(c, a)
			if math.Abs(got-want) > 1e-9*math.Max(want, 1e-3) {
				t.Errorf("ErlangC(%d, %v) = %v, factorial formula %v", c, a, got, want)
			}
		}
	}
	// Stable far beyond where factorials overflow.
	if got := ErlangC(2000, 1900); !(got > 0 && got < 1) {
		t.Errorf("ErlangC(2000, 1900) = %v, want in (0, 1)", got)
	}
}

func TestResponseTailMM1IsExponential(t *testing.T) {
	// In M/M/1 the response time is exponential with rate mu - lambda.
	q := Queue{ServiceMean: 0.1, ServiceSCV: 1, Slots: 1}
	for _, lambda := range []float64{1, 5, 9} {
		for _, x := range []float64{0.05, 0.3, 1} {
			got := ResponseTail(q, 1, lambda, x)
			want := math.Exp(-(10 - lambda) * x)
			if math.Abs(got-want) > 1e-12 {
				t.Errorf("lambda %v t %v: P(R>t) = %v, want %v", lambda, x, got, want)
			}
		}
	}
}

func TestResponseTailEqualRatesContinuous(t *testing.T) {
	// c mu - lambda == mu: the closed form's removable singularity.
	q := Queue{ServiceMean: 0.1, ServiceSCV: 1, Slots: 2}
	at := ResponseTail(q, 1, 10, 0.4)
	near := ResponseTail(q, 1, 10+1e-6, 0.4)
	if math.IsNaN(at) || math.Abs(at-near) > 1e-6 {
		t.Errorf("tail at gamma=mu %v, near it %v", at, near)
	}
}

func TestLognormalWaitTailMatchesBruteForce(t *testing.T) {
	// Slow obvious version: P(W'+S>t) = e^{-gamma t} + int_0^t gamma e^{-gamma w} Sbar(t-w) dw
	// by the midpoint rule with 200000 points.
	for _, scv := range []float64{0.25, 2.25} {
		q := Queue{ServiceMean: 0.1, ServiceSCV: scv}
		for _, gamma := range []float64{2, 10, 40} {
			for _, x := range []float64{0.05, 0.3, 1} {
				const n = 200000
				h := x / n
				sum := 0.0
				for i := range n {
					w := (float64(i) + 0.5) * h
					sum += gamma * math.Exp(-gamma*w) * serviceTail(q, x-w)
				}
				want := math.Exp(-gamma*x) + sum*h
				got := waitPlusServiceTail(q, gamma, x)
				if math.Abs(got-want) > 1e-6 {
					t.Errorf("scv %v gamma %v t %v: %v, brute force %v", scv, gamma, x, got, want)
				}
			}
		}
	}
}

func TestDemandHandComputedMM1(t *testing.T) {
	// Slots 1, mu = 10/s, SLO 0.5 s at 95%: one replica holds while
	// e^{-(10-lambda)0.5} <= 0.05, that is lambda <= 10 - 2 ln 20 = 4.0085.
	q := Queue{ServiceMean: 0.1, ServiceSCV: 1, Slots: 1, SLOLatency: 0.5, SLOTarget: 0.95, MaxReplicas: 50}
	limit := 10 - 2*math.Log(20)
	cases := []struct {
		rate float64
		want int
	}{
		{0, 0}, {-1, 0}, {math.NaN(), 0},
		{0.001, 1}, {limit - 1e-9, 1}, {limit + 1e-6, 2},
		{math.Inf(1), 50},
	}
	for _, tc := range cases {
		if got := Demand(q, tc.rate); got != tc.want {
			t.Errorf("Demand(rate %v) = %d, want %d", tc.rate, got, tc.want)
		}
	}
}

func TestDemandIsMinimal(t *testing.T) {
	for _, scv := range []float64{0, 0.5, 1, 2.25} {
		q := Queue{ServiceMean: 0.1, ServiceSCV: scv, Slots: 4, SLOLatency: 0.5, SLOTarget: 0.95, MaxReplicas: 200}
		prev := 0
		for rate := 1.0; rate < 1500; rate *= 1.1 {
			d := Demand(q, rate)
			if d < prev {
				t.Fatalf("scv %v: demand fell from %d to %d as rate rose to %v", scv, prev, d, rate)
			}
			prev = d
			if d < 1 || d >= q.MaxReplicas {
				t.Fatalf("scv %v rate %v: demand %d out of range", scv, rate, d)
			}
			eps := 1 - q.SLOTarget
			if p := ResponseTail(q, d, rate, q.SLOLatency); p > eps {
				t.Errorf("scv %v rate %v: d=%d misses the SLO, P(R>L) = %v", scv, rate, d, p)
			}
			if d > 1 {
				if p := ResponseTail(q, d-1, rate, q.SLOLatency); p <= eps {
					t.Errorf("scv %v rate %v: d-1=%d already meets the SLO, P(R>L) = %v", scv, rate, d-1, p)
				}
			}
			// Capacity bound: utilisation below 1.
			if rate*q.ServiceMean >= float64(d*q.Slots) {
				t.Errorf("scv %v rate %v: d=%d leaves utilisation >= 1", scv, rate, d)
			}
		}
	}
}

func TestDemandEdgeCases(t *testing.T) {
	base := Queue{ServiceMean: 0.1, ServiceSCV: 1, Slots: 4, SLOLatency: 0.5, SLOTarget: 0.95, MaxReplicas: 10}
	// Service alone misses the SLO: P(S > 0.2) = e^{-2} = 0.135 > 0.05.
	q := base
	q.SLOLatency = 0.2
	if got := Demand(q, 1); got != 10 {
		t.Errorf("unreachable SLO: Demand = %d, want MaxReplicas 10", got)
	}
	// More load than MaxReplicas can carry.
	if got := Demand(base, 1000); got != 10 {
		t.Errorf("overload: Demand = %d, want MaxReplicas 10", got)
	}
	// Invalid queue.
	bad := base
	bad.Slots = 0
	if bad.Validate() == nil {
		t.Error("Validate accepted Slots 0")
	}
	if got := Demand(bad, 5); got != 10 {
		t.Errorf("invalid queue: Demand = %d, want 10", got)
	}
	for _, f := range []func(*Queue){
		func(q *Queue) { q.ServiceMean = 0 },
		func(q *Queue) { q.ServiceSCV = -1 },
		func(q *Queue) { q.SLOLatency = math.NaN() },
		func(q *Queue) { q.SLOTarget = 1 },
		func(q *Queue) { q.MaxReplicas = 0 },
	} {
		q := base
		f(&q)
		if q.Validate() == nil {
			t.Errorf("Validate accepted %+v", q)
		}
	}
	if err := base.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", base, err)
	}
}

// simulateMGc runs a FIFO queue with c servers, Poisson arrivals at rate and service
// times from draw, and returns the share of responses slower than limit.
func simulateMGc(rng *rand.Rand, c int, rate float64, draw func() float64, limit float64, n int) float64 {
	free := make(floatHeap, c)
	var now float64
	slow := 0
	for range n {
		now += rng.ExpFloat64() / rate
		start := math.Max(now, free[0])
		done := start + draw()
		free[0] = done
		heap.Fix(&free, 0)
		if done-now > limit {
			slow++
		}
	}
	return float64(slow) / float64(n)
}

type floatHeap []float64

func (h floatHeap) Len() int           { return len(h) }
func (h floatHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h floatHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *floatHeap) Push(x any)        { *h = append(*h, x.(float64)) }
func (h *floatHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func TestResponseTailAgainstQueueSimulation(t *testing.T) {
	n := 400000
	if testing.Short() {
		n = 100000
	}
	cases := []struct {
		scv, rate, limit, tol float64
		c                     int
	}{
		{1, 70, 0.3, 0.005, 8},    // exact model: statistical error only
		{2.25, 70, 0.4, 0.03, 8},  // Allen-Cunneen approximation (conservative here)
		{0.25, 70, 0.2, 0.02, 8},  // Allen-Cunneen approximation
		{1, 150, 0.25, 0.005, 16}, // exact model
	}
	for _, tc := range cases {
		rng := rand.New(rand.NewPCG(1, 2))
		mean := 0.1
		s2 := math.Log1p(tc.scv)
		m := math.Log(mean) - s2/2
		draw := func() float64 {
			if tc.scv == 1 {
				return mean * rng.ExpFloat64()
			}
			return math.Exp(m + math.Sqrt(s2)*rng.NormFloat64())
		}
		got := simulateMGc(rng, tc.c, tc.rate, draw, tc.limit, n)
		q := Queue{ServiceMean: mean, ServiceSCV: tc.scv, Slots: tc.c}
		model := ResponseTail(q, 1, tc.rate, tc.limit)
		if math.Abs(got-model) > tc.tol {
			t.Errorf("scv %v c %d rate %v: simulated P(R>%v) = %.4f, model %.4f", tc.scv, tc.c, tc.rate, tc.limit, got, model)
		}
	}
}

func BenchmarkDemand(b *testing.B) {
	q := Queue{ServiceMean: 0.1, ServiceSCV: 2.25, Slots: 4, SLOLatency: 0.5, SLOTarget: 0.95, MaxReplicas: 50}
	qe := q
	qe.ServiceSCV = 1
	b.Run("lognormal", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			Demand(q, float64(50+i%400))
		}
	})
	b.Run("exponential", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			Demand(qe, float64(50+i%400))
		}
	})
}
