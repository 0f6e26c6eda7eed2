package elasticity

import (
	"math"
	"testing"
)

// maxTableError bounds |TailTable - ResponseTailC| over loads and times. Measured:
// 3.7e-7 at CV 0.5, 1.7e-6 at CV 1.5, the latter at gamma t near 40, where the exact
// quadrature narrows its range and its own error (a step of 0.02 in z on an integrand
// as steep) changes with the load.
const maxTableError = 5e-6

// TestTailTableMatchesExact: the table agrees with ResponseTailC within maxTableError
// on lognormal services (CV 0.5 and 1.5) at the histogram's bucket bounds, from idle to
// 99.99% busy at 1 to 1,000 worker slots, and to the bit on exponential and constant
// service; the table's answers do not depend on the order of the calls.
func TestTailTableMatchesExact(t *testing.T) {
	ts := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 0.3}
	for _, q := range []Queue{
		{ServiceMean: 0.25, ServiceSCV: 0.25, Slots: 1, SLOLatency: 1, SLOTarget: 0.95, MaxReplicas: 1000},
		{ServiceMean: 0.1, ServiceSCV: 2.25, Slots: 4, SLOLatency: 0.5, SLOTarget: 0.95, MaxReplicas: 250},
		{ServiceMean: 0.1, ServiceSCV: 1, Slots: 4, SLOLatency: 0.5, SLOTarget: 0.95, MaxReplicas: 250},
		{ServiceMean: 0.1, ServiceSCV: 0, Slots: 4, SLOLatency: 0.5, SLOTarget: 0.95, MaxReplicas: 250},
	} {
		tt := NewTailTable(q, ts)
		fresh := NewTailTable(q, ts)
		out := make([]float64, len(ts))
		var worst float64
		for _, servers := range []int{1, 3, 10, 47, 100, 1000} {
			capacity := float64(servers) / q.ServiceMean
			for u := 0; u < 800; u++ {
				// Utilisation from 0.01% to 99.99%, denser near saturation.
				rho := 1 - math.Pow(10, -4*float64(u)/800)
				rate := math.Max(1e-4, rho) * capacity
				c := ErlangC(servers, rate*q.ServiceMean)
				tt.Tails(servers, rate, c, out)
				for i, x := range ts {
					want := ResponseTailC(q, servers, rate, c, x)
					d := math.Abs(out[i] - want)
					if q.ServiceSCV == 0 || q.ServiceSCV == 1 {
						if out[i] != want {
							t.Fatalf("SCV %v: %d slots, rate %v, t %v: table %v, exact %v: want the same bits", q.ServiceSCV, servers, rate, x, out[i], want)
						}
					}
					worst = math.Max(worst, d)
				}
			}
		}
		t.Logf("SCV %v: max |table - exact| %.3g", q.ServiceSCV, worst)
		if worst > maxTableError {
			t.Errorf("SCV %v: max |table - exact| %.3g, want <= %g", q.ServiceSCV, worst, maxTableError)
		}
		// One call on a fresh table gives the same bits as the table filled above.
		out2 := make([]float64, len(ts))
		c := ErlangC(10, 30*q.ServiceMean)
		fresh.Tails(10, 30, c, out2)
		tt.Tails(10, 30, c, out)
		for i := range out {
			if out[i] != out2[i] {
				t.Fatalf("SCV %v: t %v: %v on a fresh table, %v on a used one", q.ServiceSCV, ts[i], out2[i], out[i])
			}
		}
	}
}
