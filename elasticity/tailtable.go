package elasticity

import "math"

// TailTable evaluates the response-time tail P(R > t) of the M/G/c model (as
// ResponseTailC does) at a fixed set of times t, for callers that evaluate it at many
// loads: the fluid model bins each one-second bucket's completions into the latency
// histogram. The tail depends on the load through the Erlang C probability and the
// wait's rate gamma alone; for lognormal service, whose wait-plus-service tail is a
// numerical convolution, that term is interpolated in ln gamma (cubic Hermite, from
// the exact value and derivative at nodes tablePerOctave to the octave of gamma t,
// each computed the first time it is needed), so a call costs a logarithm and a few
// multiplications per t instead of a convolution. Exponential and constant service
// use the closed forms, to the bit. Outside the table's range (gamma t below 2^-12 or
// above 2^24) the tail is computed exactly. TestTailTableMatchesExact bounds the
// difference. A TailTable is not safe for concurrent use; its values do not depend on
// the order of the calls.
type TailTable struct {
	q        Queue
	ts       []float64
	svc      []float64 // P(S > t)
	log2t    []float64
	m, sigma float64   // lognormal service: S = exp(m + sigma Z)
	val, der []float64 // per t, tableNodes nodes: the wait-plus-service tail and its d/d(ln gamma); NaN until computed
}

const (
	tablePerOctave = 8
	tableLog2Lo    = -12 // log2(gamma t) of the first node
	tableOctaves   = 36
	tableNodes     = tableOctaves*tablePerOctave + 1
)

// NewTailTable returns the table of q at the times ts (seconds, > 0). q must be valid
// (Queue.Validate).
func NewTailTable(q Queue, ts []float64) *TailTable {
	tt := &TailTable{q: q, ts: append([]float64(nil), ts...), svc: make([]float64, len(ts)), log2t: make([]float64, len(ts))}
	for i, t := range ts {
		tt.svc[i] = serviceTail(q, t)
		tt.log2t[i] = math.Log2(t)
	}
	if tt.lognormal() {
		s2 := math.Log1p(q.ServiceSCV)
		tt.m, tt.sigma = math.Log(q.ServiceMean)-s2/2, math.Sqrt(s2)
		tt.val = make([]float64, len(ts)*tableNodes)
		tt.der = make([]float64, len(ts)*tableNodes)
		for i := range tt.val {
			tt.val[i] = math.NaN()
		}
	}
	return tt
}

func (tt *TailTable) lognormal() bool { return tt.q.ServiceSCV != 0 && tt.q.ServiceSCV != 1 }

// Tails sets out[i] to P(R > ts[i]) with servers worker slots at rate (requests/s,
// below servers/ServiceMean) and Erlang C probability erlangC (as ResponseTailC).
// len(out) must be len(ts).
func (tt *TailTable) Tails(servers int, rate, erlangC float64, out []float64) {
	q := tt.q
	if !tt.lognormal() {
		for i, t := range tt.ts {
			out[i] = responseTail(q, servers, rate, erlangC, t)
		}
		return
	}
	mu := 1 / q.ServiceMean
	gamma := (float64(servers)*mu - rate) * 2 / (1 + q.ServiceSCV)
	lg := math.Log2(gamma)
	for i, t := range tt.ts {
		var w float64
		pos := (lg + tt.log2t[i] - tableLog2Lo) * tablePerOctave
		if j := int(math.Floor(pos)); t > 0 && j >= 0 && j < tableNodes-1 {
			w = tt.interpolate(i, j, pos-float64(j))
		} else {
			w = waitPlusServiceTail(q, gamma, t)
		}
		out[i] = (1-erlangC)*tt.svc[i] + erlangC*w
	}
}

// interpolate is the cubic Hermite interpolant of t's wait-plus-service tail between
// nodes j and j+1, at s in [0, 1) of the way.
func (tt *TailTable) interpolate(i, j int, s float64) float64 {
	k := i*tableNodes + j
	tt.node(i, j)
	tt.node(i, j+1)
	const h = math.Ln2 / tablePerOctave // node spacing in ln gamma
	s2, s3 := s*s, s*s*s
	return (2*s3-3*s2+1)*tt.val[k] + (s3-2*s2+s)*h*tt.der[k] + (3*s2-2*s3)*tt.val[k+1] + (s3-s2)*h*tt.der[k+1]
}

// node computes node j of t's row if it is not yet known.
func (tt *TailTable) node(i, j int) {
	k := i*tableNodes + j
	if !math.IsNaN(tt.val[k]) {
		return
	}
	t := tt.ts[i]
	gamma := math.Exp2(tableLog2Lo+float64(j)/tablePerOctave) / t
	tt.val[k], tt.der[k] = lognormalWaitTailD(tt.m, tt.sigma, gamma, t)
}

// lognormalWaitTailD is lognormalWaitTail and its derivative with respect to
// ln gamma (gamma times the integral of d/dgamma of the integrand, the same
// quadrature; the move of the narrowed lower limit, where the integrand is under
// e^-40, is left out).
func lognormalWaitTailD(m, sigma, gamma, t float64) (p, dp float64) {
	zs, tail, lo := waitTailRange(m, sigma, gamma, t)
	h := (zs - lo) / tailNodes
	var sum, dsum float64
	for i := 0; i <= tailNodes; i++ {
		w := 2.0
		switch {
		case i == 0 || i == tailNodes:
			w = 1
		case i%2 == 1:
			w = 4
		}
		z := lo + float64(i)*h
		d := t - math.Exp(m+sigma*z)
		f := math.Exp(-z*z/2-gamma*d) / math.Sqrt(2*math.Pi)
		sum += w * f
		dsum -= w * d * f
	}
	p = tail + sum*h/3
	if p >= 1 {
		return 1, 0
	}
	return p, gamma * dsum * h / 3
}
