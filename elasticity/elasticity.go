// Package elasticity defines how well supply tracks demand: the demand a service
// needs (from queueing theory) and the SPEC Research Group elasticity metrics,
// responsiveness, scaling accuracy and SLO figures computed from a run's timeline.
// It is pure arithmetic: no I/O, no randomness. METRICS.md gives every formula.
package elasticity

import (
	"fmt"
	"math"
)

// Queue describes the service for demand: how many ready replicas a rate needs.
type Queue struct {
	ServiceMean float64 // mean service time of one request, seconds
	ServiceSCV  float64 // squared coefficient of variation of service time (1 for exponential)
	Slots       int     // worker slots per replica
	SLOLatency  float64 // seconds: a response slower than this violates the SLO
	SLOTarget   float64 // share of requests that must meet SLOLatency, e.g. 0.95
	MaxReplicas int     // returned when even this many do not meet the SLO
}

// Validate reports the first field of q that Demand cannot work with.
func (q Queue) Validate() error {
	switch {
	case !(q.ServiceMean > 0) || math.IsInf(q.ServiceMean, 0):
		return fmt.Errorf("elasticity queue: ServiceMean %v: must be finite and > 0 seconds", q.ServiceMean)
	case !(q.ServiceSCV >= 0) || math.IsInf(q.ServiceSCV, 0):
		return fmt.Errorf("elasticity queue: ServiceSCV %v: must be finite and >= 0", q.ServiceSCV)
	case q.Slots < 1:
		return fmt.Errorf("elasticity queue: Slots %d: must be >= 1", q.Slots)
	case !(q.SLOLatency > 0) || math.IsInf(q.SLOLatency, 0):
		return fmt.Errorf("elasticity queue: SLOLatency %v: must be finite and > 0 seconds", q.SLOLatency)
	case !(q.SLOTarget > 0 && q.SLOTarget < 1):
		return fmt.Errorf("elasticity queue: SLOTarget %v: must be in (0, 1)", q.SLOTarget)
	case q.MaxReplicas < 1:
		return fmt.Errorf("elasticity queue: MaxReplicas %d: must be >= 1", q.MaxReplicas)
	}
	return nil
}

// Demand returns d, the fewest ready replicas in [1, MaxReplicas] that meet the SLO
// at arrival rate rate (requests per second): P(R > SLOLatency) <= 1 - SLOTarget with
// utilisation below 1, R the response time of the M/G/c model in METRICS.md. It
// returns 0 when rate is 0 (or negative or NaN), MaxReplicas when no count up to
// MaxReplicas meets the SLO, and MaxReplicas (at least 1) when q is invalid.
func Demand(q Queue, rate float64) int {
	if !(rate > 0) {
		return 0
	}
	if q.Validate() != nil {
		return max(q.MaxReplicas, 1)
	}
	if math.IsInf(rate, 1) {
		return q.MaxReplicas
	}
	eps := 1 - q.SLOTarget
	mu := 1 / q.ServiceMean
	a := rate / mu // offered load, Erlangs
	// Even with no waiting at all the service time alone may miss the SLO.
	if serviceTail(q, q.SLOLatency) > eps {
		return q.MaxReplicas
	}
	// Erlang-B by its recursion, continued from one replica count to the next so a
	// whole search costs O(MaxReplicas*Slots).
	b, c := 1.0, 0
	for n := 1; n <= q.MaxReplicas; n++ {
		servers := n * q.Slots
		for c < servers {
			c++
			b = a * b / (float64(c) + a*b)
		}
		if a >= float64(servers) {
			continue // utilisation >= 1: unstable
		}
		if responseTail(q, servers, rate, erlangCFromB(b, a, servers), q.SLOLatency) <= eps {
			return n
		}
	}
	return q.MaxReplicas
}

// ErlangB returns the blocking probability of M/M/c/c with c servers and offered load
// a Erlangs, by the recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)).
func ErlangB(c int, a float64) float64 {
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// ErlangC returns the probability that an arrival waits in M/M/c with c servers and
// offered load a = lambda/mu Erlangs; 1 when a >= c (the queue is unstable).
func ErlangC(c int, a float64) float64 {
	if c < 1 || a >= float64(c) {
		return 1
	}
	if a <= 0 {
		return 0
	}
	return erlangCFromB(ErlangB(c, a), a, c)
}

// erlangCFromB is C = B / (1 - rho (1 - B)), rho = a/c.
func erlangCFromB(b, a float64, c int) float64 {
	rho := a / float64(c)
	return b / (1 - rho*(1-b))
}

// ResponseTail returns P(R > t): the probability that a request's response time
// (wait plus service) exceeds t seconds with the given ready replicas at arrival
// rate rate, under the model of METRICS.md. It is 1 when utilisation is >= 1.
func ResponseTail(q Queue, replicas int, rate, t float64) float64 {
	servers := replicas * q.Slots
	if servers < 1 || !(q.ServiceMean > 0) {
		return 1
	}
	if !(rate > 0) {
		return serviceTail(q, t)
	}
	a := rate * q.ServiceMean
	if a >= float64(servers) {
		return 1
	}
	return responseTail(q, servers, rate, ErlangC(servers, a), t)
}

// ResponseTailC is ResponseTail with the Erlang C probability of servers worker
// slots at rate already computed (ErlangC(servers, rate*ServiceMean)), for callers
// that evaluate many t at one load. rate must be below servers/ServiceMean.
func ResponseTailC(q Queue, servers int, rate, erlangC, t float64) float64 {
	return responseTail(q, servers, rate, erlangC, t)
}

// responseTail is P(W + S > t) where W = 0 with probability 1 - C, else exponential
// with rate gamma = (c mu - lambda) * 2/(1+SCV) (Allen-Cunneen; exact for SCV = 1),
// and S is the service time.
func responseTail(q Queue, servers int, rate, erlangC, t float64) float64 {
	mu := 1 / q.ServiceMean
	gamma := (float64(servers)*mu - rate) * 2 / (1 + q.ServiceSCV)
	return (1-erlangC)*serviceTail(q, t) + erlangC*waitPlusServiceTail(q, gamma, t)
}

// serviceTail is P(S > t): exponential for SCV = 1, constant for SCV = 0, lognormal
// with the same mean and SCV otherwise.
func serviceTail(q Queue, t float64) float64 {
	if t < 0 {
		return 1
	}
	m := q.ServiceMean
	switch {
	case q.ServiceSCV == 1:
		return math.Exp(-t / m)
	case q.ServiceSCV == 0:
		if t < m {
			return 1
		}
		return 0
	}
	if t == 0 {
		return 1
	}
	s2 := math.Log1p(q.ServiceSCV)
	mu := math.Log(m) - s2/2
	return 0.5 * math.Erfc((math.Log(t)-mu)/math.Sqrt(2*s2))
}

// waitPlusServiceTail is P(W' + S > t) for W' exponential with rate gamma and S the
// service time: closed forms for exponential and constant service, otherwise by
// numerical convolution.
func waitPlusServiceTail(q Queue, gamma, t float64) float64 {
	if t <= 0 {
		return 1
	}
	switch q.ServiceSCV {
	case 1:
		mu := 1 / q.ServiceMean
		if math.Abs(gamma-mu) <= 1e-9*mu {
			// Sum of two exponentials with equal rates: Erlang-2.
			return (1 + mu*t) * math.Exp(-mu*t)
		}
		return (gamma*math.Exp(-mu*t) - mu*math.Exp(-gamma*t)) / (gamma - mu)
	case 0:
		if t < q.ServiceMean {
			return 1
		}
		return math.Exp(-gamma * (t - q.ServiceMean))
	}
	s2 := math.Log1p(q.ServiceSCV)
	return lognormalWaitTail(math.Log(q.ServiceMean)-s2/2, math.Sqrt(s2), gamma, t)
}

// tailNodes is the (even) number of Simpson intervals of the convolution integral.
const tailNodes = 512

// lognormalWaitTail is P(W' + S > t) for W' exponential with rate gamma and
// S = exp(m + sigma Z), Z standard normal. With z* the z at which S = t:
//
//	P = P(Z > z*) + integral_{-inf}^{z*} phi(z) exp(-gamma (t - exp(m + sigma z))) dz,
//
// the integral (smooth on its range) by composite Simpson over [z*-10, z*], narrowed
// to where the integrand exceeds e^-40.
func lognormalWaitTail(m, sigma, gamma, t float64) float64 {
	zs, tail, lo := waitTailRange(m, sigma, gamma, t)
	h := (zs - lo) / tailNodes
	f := func(z float64) float64 {
		return math.Exp(-z*z/2-gamma*(t-math.Exp(m+sigma*z))) / math.Sqrt(2*math.Pi)
	}
	sum := f(lo) + f(zs)
	for i := 1; i < tailNodes; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		sum += w * f(lo+float64(i)*h)
	}
	return math.Min(1, tail+sum*h/3)
}

// waitTailRange returns lognormalWaitTail's z*, P(Z > z*) and the integral's lower
// limit.
func waitTailRange(m, sigma, gamma, t float64) (zs, tail, lo float64) {
	zs = (math.Log(t) - m) / sigma
	tail = 0.5 * math.Erfc(zs/math.Sqrt2)
	lo = zs - 10
	if r := t - 40/gamma; r > 0 {
		// Below S = t - 40/gamma the integrand is under e^-40.
		lo = math.Max(lo, (math.Log(r)-m)/sigma)
	}
	return zs, tail, lo
}

// Series is a run's timeline as the metrics need it: one entry per control interval.
type Series struct {
	Interval float64 // seconds per entry
	// Last is the length in seconds of the last entry when it is shorter than
	// Interval (a run whose trace does not end at a control interval's end); 0 means
	// Interval. Every sum over time weights that entry by its length.
	Last    float64
	Demand  []int // d_t
	Supply  []int // s_t: ready replicas during interval t
	Desired []int // the autoscaler's decision at the end of interval t
	// Totals over the run.
	Requests   int64   // arrived
	Violations int64   // completed slower than the SLO plus dropped
	Dropped    int64   // dropped
	Cost       float64 // accrued cost
}

// Validate reports the first inconsistency in s.
func (s Series) Validate() error {
	switch {
	case !(s.Interval > 0) || math.IsInf(s.Interval, 0):
		return fmt.Errorf("elasticity series: Interval %v: must be finite and > 0 seconds", s.Interval)
	case !(s.Last >= 0) || s.Last > s.Interval:
		return fmt.Errorf("elasticity series: Last %v: must be in [0, Interval %v] seconds", s.Last, s.Interval)
	case len(s.Supply) != len(s.Demand):
		return fmt.Errorf("elasticity series: %d supply entries for %d demand entries", len(s.Supply), len(s.Demand))
	case s.Desired != nil && len(s.Desired) != len(s.Demand):
		return fmt.Errorf("elasticity series: %d desired entries for %d demand entries", len(s.Desired), len(s.Demand))
	case s.Requests < 0 || s.Violations < 0 || s.Dropped < 0:
		return fmt.Errorf("elasticity series: negative totals (requests %d, violations %d, dropped %d)", s.Requests, s.Violations, s.Dropped)
	case s.Violations > s.Requests || s.Dropped > s.Requests:
		return fmt.Errorf("elasticity series: violations %d or dropped %d exceed requests %d", s.Violations, s.Dropped, s.Requests)
	}
	return nil
}

// Summary holds the figures of one run. Percentages are in [0, 100].
type Summary struct {
	ThetaU, ThetaO float64 // SPEC under/over-provisioning accuracy, percent of demand
	TauU, TauO     float64 // SPEC under/over-provisioning timeshare, percent of time
	Instability    float64 // SPEC instability k, percent of time
	ScalingActions int     // number of changes of the desired count

	UnderProvisionSeconds float64 // mean length of an under-provisioned episode, seconds
	TimeToMeetDemand      float64 // mean seconds from a demand rise until supply meets it
	Accuracy              float64 // percent of intervals with d <= s <= max(d+1, 1.1 d) (InBand)

	SLOViolations float64 // percent of requests slower than the SLO or dropped
	DropRate      float64 // percent of requests dropped
	P50, P95, P99 float64 // response-time quantiles over the run, seconds (filled by sim)
	Cost          float64 // total cost (replica-hours at the default price)
}

// Compute returns the summary of s (latency quantiles left zero). It uses the common
// prefix of Demand and Supply (and Desired) when their lengths differ; see Validate.
func Compute(s Series) Summary {
	out := Summary{Cost: s.Cost}
	if s.Requests > 0 {
		out.SLOViolations = 100 * float64(s.Violations) / float64(s.Requests)
		out.DropRate = 100 * float64(s.Dropped) / float64(s.Requests)
	}
	dt := s.Interval
	if !(dt > 0) {
		dt = 0
	}
	for i := 1; i < len(s.Desired); i++ {
		if s.Desired[i] != s.Desired[i-1] {
			out.ScalingActions++
		}
	}
	n := min(len(s.Demand), len(s.Supply))
	if n == 0 {
		return out
	}
	d, sup := s.Demand[:n], s.Supply[:n]
	// w(t) is entry t's length in intervals: 1, but Last/Interval for a shorter last
	// entry, so that the time sums below weight it by its length.
	last := 1.0
	if dt > 0 && s.Last > 0 && s.Last < dt {
		last = s.Last / dt
	}
	w := func(t int) float64 {
		if t == n-1 {
			return last
		}
		return 1
	}

	var nAcc, episodes int
	var under, over, unstable, thetaU, thetaO float64
	for t := range n {
		dd, ss, wt := d[t], sup[t], w(t)
		den := float64(max(dd, 1))
		if ss < dd {
			under += wt
			thetaU += wt * float64(dd-ss) / den
			if t == 0 || sup[t-1] >= d[t-1] {
				episodes++
			}
		}
		if ss > dd {
			over += wt
			thetaO += wt * float64(ss-dd) / den
		}
		if InBand(dd, ss) {
			nAcc++
		}
		if t > 0 && sign(ss-sup[t-1]) != sign(dd-d[t-1]) {
			unstable += wt
		}
	}
	T := float64(n-1) + last // the run's length in intervals
	out.ThetaU = 100 * thetaU / T
	out.ThetaO = 100 * thetaO / T
	out.TauU = 100 * under / T
	out.TauO = 100 * over / T
	out.Accuracy = 100 * float64(nAcc) / float64(n)
	if n > 1 {
		out.Instability = 100 * unstable / (T - 1)
	}
	if episodes > 0 {
		out.UnderProvisionSeconds = under * dt / float64(episodes)
	}

	// Time to meet demand: an event at t when demand rises and supply is short; it
	// ends at the first t' > t with s_t' >= min(d_t, d_t'), or at the end of the run.
	var events int
	var wait float64
	for t := 1; t < n; t++ {
		if !(d[t] > d[t-1] && sup[t] < d[t]) {
			continue
		}
		end, open := n, true
		for u := t + 1; u < n; u++ {
			if sup[u] >= min(d[t], d[u]) {
				end, open = u, false
				break
			}
		}
		events++
		wait += float64(end-t) * dt
		if open {
			wait -= (1 - last) * dt // the run ends with the shorter last entry
		}
	}
	if events > 0 {
		out.TimeToMeetDemand = wait / float64(events)
	}
	return out
}

// InBand reports whether supply s is within the scaling-accuracy band of demand d:
// d <= s <= max(d+1, floor(1.1 d)) (METRICS.md, "Scaling accuracy"), computed in
// integers so that the edge is exact.
func InBand(d, s int) bool {
	return d <= s && (s <= d+1 || 10*s <= 11*d)
}

func sign(x int) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
