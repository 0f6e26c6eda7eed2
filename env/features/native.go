package features

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/kahansum"

	"github.com/intelliscale/intelliscale/sim"
)

// Lookback is the instant-vector lookback delta the native evaluator applies, and the
// one the Prometheus engine must be configured with for parity (its default).
const Lookback = 5 * time.Minute

// Evaluator computes a spec's features natively from the scrapes it records, with
// the same results as the Prometheus engine over the same samples. It is a
// sim.Recorder: hand it every scrape, then call Observe at a control step. It keeps
// only the history the longest window needs and allocates nothing per evaluation in
// steady state. It is not safe for concurrent use.
type Evaluator struct {
	spec    Spec
	nodes   []node
	ring    ring
	epochMs int64
}

// NewEvaluator validates spec and compiles it. epoch is the wall-clock time of sim
// time zero: sample timestamps are epoch + scrape time, so time() and the time-of-day
// features see the trace's clock.
func NewEvaluator(spec Spec, epoch time.Time) (*Evaluator, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	e := &Evaluator{spec: spec, epochMs: epoch.UnixMilli()}
	var hist int64
	for _, f := range spec.Features {
		n, h, err := compileExpr(f.Expr)
		if err != nil {
			return nil, fmt.Errorf("feature %q (%s): %w", f.Name, f.Expr, err)
		}
		e.nodes = append(e.nodes, n)
		hist = max(hist, h)
	}
	// Keep a minute beyond the longest window so evaluation slightly before the
	// newest scrape still sees its whole window.
	e.ring = ring{n: len(series), keep: hist + int64(time.Minute/time.Millisecond)}
	return e, nil
}

// Spec returns the (validated) spec the evaluator computes.
func (e *Evaluator) Spec() Spec { return e.spec }

// Len is the number of features.
func (e *Evaluator) Len() int { return len(e.nodes) }

// Reset forgets all history and sets a new epoch, for the next run.
func (e *Evaluator) Reset(epoch time.Time) {
	e.epochMs = epoch.UnixMilli()
	e.ring.ts = e.ring.ts[:0]
	e.ring.vals = e.ring.vals[:0]
	e.ring.head = 0
}

// Record stores a scrape (sim.Recorder).
func (e *Evaluator) Record(s *sim.Scrape) {
	t := e.epochMs + s.Time.Milliseconds()
	row := e.ring.push(t)
	for i := range series {
		row[i] = series[i].Value(s)
	}
}

// Millis returns the sample timestamp, in milliseconds since the Unix epoch, of sim
// time d.
func (e *Evaluator) Millis(d time.Duration) int64 { return e.epochMs + d.Milliseconds() }

// Raw evaluates feature i at sim time d: the expression's value and whether it
// yielded a sample.
func (e *Evaluator) Raw(i int, d time.Duration) (float64, bool) {
	return e.nodes[i].eval(&e.ring, e.Millis(d))
}

// Observe evaluates every feature at sim time d and writes the transformed values
// (Feature.Transform) into dst, which it grows if needed and returns.
func (e *Evaluator) Observe(d time.Duration, dst []float64) []float64 {
	if cap(dst) < len(e.nodes) {
		dst = make([]float64, len(e.nodes))
	}
	dst = dst[:len(e.nodes)]
	t := e.Millis(d)
	for i, n := range e.nodes {
		v, ok := n.eval(&e.ring, t)
		dst[i] = e.spec.Features[i].Transform(v, ok)
	}
	return dst
}

// ring holds recent sample rows: ts[i] and vals[i*n:(i+1)*n], rows from head live.
type ring struct {
	n    int
	ts   []int64
	vals []float64
	head int
	keep int64 // ms of history kept behind the newest row
}

// push appends a row at time t (replacing the newest row when t is not after it) and
// returns it for filling. Rows older than keep are dropped.
func (r *ring) push(t int64) []float64 {
	if len(r.ts) > r.head && t <= r.ts[len(r.ts)-1] {
		if t < r.ts[len(r.ts)-1] { // time went backwards: a new run; start over
			r.ts, r.vals, r.head = r.ts[:0], r.vals[:0], 0
		} else {
			i := len(r.ts) - 1
			return r.vals[i*r.n : (i+1)*r.n]
		}
	}
	for r.head < len(r.ts) && r.ts[r.head] <= t-r.keep {
		r.head++
	}
	if r.head > 0 && r.head >= len(r.ts)/2 {
		live := len(r.ts) - r.head
		copy(r.ts, r.ts[r.head:])
		copy(r.vals, r.vals[r.head*r.n:])
		r.ts = r.ts[:live]
		r.vals = r.vals[:live*r.n]
		r.head = 0
	}
	r.ts = append(r.ts, t)
	for range r.n {
		r.vals = append(r.vals, 0)
	}
	i := len(r.ts) - 1
	return r.vals[i*r.n : (i+1)*r.n]
}

// window returns the live rows [i, j) with lo < ts <= hi (Prometheus 3 range
// selectors are left-open).
func (r *ring) window(lo, hi int64) (int, int) {
	return r.search(lo), r.search(hi)
}

// search returns the first live row index with ts > x.
func (r *ring) search(x int64) int {
	i, j := r.head, len(r.ts)
	for i < j {
		h := int(uint(i+j) >> 1)
		if r.ts[h] <= x {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

func (r *ring) at(row, col int) float64 { return r.vals[row*r.n+col] }

// node is a compiled expression: its value at time t (ms) and whether there is one.
// Scalars always have a value; label-free vectors may be empty.
type node interface {
	eval(r *ring, t int64) (float64, bool)
}

type numNode float64

func (n numNode) eval(*ring, int64) (float64, bool) { return float64(n), true }

type timeNode struct{}

func (timeNode) eval(_ *ring, t int64) (float64, bool) { return float64(t) / 1000, true }

// vectorNode is vector(scalar); also used for parentheses.
type vectorNode struct{ x node }

func (n vectorNode) eval(r *ring, t int64) (float64, bool) { return n.x.eval(r, t) }

type scalarNode struct{ x node }

func (n scalarNode) eval(r *ring, t int64) (float64, bool) {
	v, ok := n.x.eval(r, t)
	if !ok {
		return math.NaN(), true
	}
	return v, true
}

type negNode struct{ x node }

func (n negNode) eval(r *ring, t int64) (float64, bool) {
	v, ok := n.x.eval(r, t)
	return -v, ok
}

type binNode struct {
	op      parser.ItemType
	l, r    node
	retBool bool
}

func (n *binNode) eval(r *ring, t int64) (float64, bool) {
	a, ok := n.l.eval(r, t)
	if !ok {
		return 0, false
	}
	b, ok := n.r.eval(r, t)
	if !ok {
		return 0, false
	}
	var c bool
	switch n.op {
	case parser.ADD:
		return a + b, true
	case parser.SUB:
		return a - b, true
	case parser.MUL:
		return a * b, true
	case parser.DIV:
		return a / b, true
	case parser.MOD:
		return math.Mod(a, b), true
	case parser.POW:
		return math.Pow(a, b), true
	case parser.ATAN2:
		return math.Atan2(a, b), true
	case parser.EQLC:
		c = a == b
	case parser.NEQ:
		c = a != b
	case parser.GTR:
		c = a > b
	case parser.LSS:
		c = a < b
	case parser.GTE:
		c = a >= b
	case parser.LTE:
		c = a <= b
	}
	if c {
		return 1, true
	}
	return 0, true
}

type mathNode struct {
	f func(float64) float64
	x node
}

func (n *mathNode) eval(r *ring, t int64) (float64, bool) {
	v, ok := n.x.eval(r, t)
	if !ok {
		return 0, false
	}
	return n.f(v), true
}

// clampNode is clamp(x, lo, hi), clamp_min (hi nil) and clamp_max (lo nil).
type clampNode struct{ x, lo, hi node }

func (n *clampNode) eval(r *ring, t int64) (float64, bool) {
	v, ok := n.x.eval(r, t)
	if !ok {
		return 0, false
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if n.lo != nil {
		lo, _ = n.lo.eval(r, t)
	}
	if n.hi != nil {
		hi, _ = n.hi.eval(r, t)
	}
	switch {
	case n.lo != nil && n.hi != nil:
		if hi < lo { // Prometheus returns nothing when max < min.
			return 0, false
		}
		return math.Max(lo, math.Min(hi, v)), true
	case n.lo != nil:
		return math.Max(lo, v), true
	default:
		return math.Min(hi, v), true
	}
}

// rangeFn names a function over the samples of a range.
type rangeFn int

const (
	fnNone rangeFn = iota // instant selector: latest sample within the lookback
	fnRate
	fnIncrease
	fnDelta
	fnDeriv
	fnPredictLinear
	fnAvgOverTime
	fnSumOverTime
	fnMinOverTime
	fnMaxOverTime
	fnCountOverTime
	fnLastOverTime
)

var rangeFns = map[string]rangeFn{
	"rate": fnRate, "increase": fnIncrease, "delta": fnDelta, "deriv": fnDeriv,
	"predict_linear": fnPredictLinear, "avg_over_time": fnAvgOverTime,
	"sum_over_time": fnSumOverTime, "min_over_time": fnMinOverTime,
	"max_over_time": fnMaxOverTime, "count_over_time": fnCountOverTime,
	"last_over_time": fnLastOverTime,
}

// points is a scratch sample list.
type points struct {
	t []int64
	f []float64
}

func (p *points) reset() { p.t, p.f = p.t[:0], p.f[:0] }

func (p *points) add(t int64, f float64) { p.t = append(p.t, t); p.f = append(p.f, f) }

// apply computes fn over p for evaluation time t (ms), a range of rangeMs ending at
// end (ms, t minus offset); arg is predict_linear's duration in seconds.
func (fn rangeFn) apply(p *points, t, end, rangeMs int64, arg float64) (float64, bool) {
	n := len(p.f)
	if n == 0 {
		return 0, false
	}
	switch fn {
	case fnRate, fnIncrease, fnDelta:
		return extrapolatedRate(p, end-rangeMs, end, rangeMs, fn != fnDelta, fn == fnRate)
	case fnDeriv:
		if n < 2 {
			return 0, false
		}
		slope, _ := linearRegression(p, p.t[0])
		return slope, true
	case fnPredictLinear:
		if n < 2 {
			return 0, false
		}
		slope, icpt := linearRegression(p, t)
		return slope*arg + icpt, true
	case fnAvgOverTime:
		s, c := 0.0, 0.0
		for _, f := range p.f {
			s, c = kahansum.Inc(f, s, c)
		}
		return (s + c) / float64(n), true
	case fnSumOverTime:
		s, c := 0.0, 0.0
		for _, f := range p.f {
			s, c = kahansum.Inc(f, s, c)
		}
		return s + c, true
	case fnMinOverTime, fnMaxOverTime:
		m := p.f[0]
		for _, f := range p.f[1:] {
			if fn == fnMaxOverTime && (f > m || math.IsNaN(m)) || fn == fnMinOverTime && (f < m || math.IsNaN(m)) {
				m = f
			}
		}
		return m, true
	case fnCountOverTime:
		return float64(n), true
	case fnLastOverTime:
		return p.f[n-1], true
	}
	return 0, false
}

// extrapolatedRate is promql/functions.go extrapolatedRate for float samples without
// start timestamps: counter resets, extrapolation to the range boundaries when the
// first/last sample is within 1.1 average intervals of them (else half an interval),
// and for counters no extrapolation below zero.
func extrapolatedRate(p *points, rangeStart, rangeEnd, rangeMs int64, isCounter, isRate bool) (float64, bool) {
	n := len(p.f)
	if n < 2 {
		return 0, false
	}
	result := p.f[n-1] - p.f[0]
	if isCounter {
		for i := 1; i < n; i++ {
			if p.f[i] < p.f[i-1] {
				result += p.f[i-1]
			}
		}
	}
	firstT, lastT := p.t[0], p.t[n-1]
	durationToStart := float64(firstT-rangeStart) / 1000
	durationToEnd := float64(rangeEnd-lastT) / 1000
	sampledInterval := float64(lastT-firstT) / 1000
	avg := sampledInterval / float64(n-1)
	threshold := avg * 1.1
	if durationToStart >= threshold {
		durationToStart = avg / 2
	}
	if isCounter {
		durationToZero := durationToStart
		if result > 0 && p.f[0] >= 0 {
			durationToZero = sampledInterval * (p.f[0] / result)
		}
		if durationToZero < durationToStart {
			durationToStart = durationToZero
		}
	}
	if durationToEnd >= threshold {
		durationToEnd = avg / 2
	}
	factor := 1.0
	if sampledInterval != 0 {
		factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval
	}
	if isRate {
		factor /= float64(rangeMs) / 1000
	}
	return result * factor, true
}

// linearRegression is promql/functions.go linearRegression (Kahan sums, a constant
// series gives slope 0).
func linearRegression(p *points, interceptTime int64) (slope, intercept float64) {
	var n, sumX, cX, sumY, cY, sumXY, cXY, sumX2, cX2 float64
	initY := p.f[0]
	constY := true
	for i, f := range p.f {
		if constY && i > 0 && f != initY {
			constY = false
		}
		n++
		x := float64(p.t[i]-interceptTime) / 1e3
		sumX, cX = kahansum.Inc(x, sumX, cX)
		sumY, cY = kahansum.Inc(f, sumY, cY)
		sumXY, cXY = kahansum.Inc(x*f, sumXY, cXY)
		sumX2, cX2 = kahansum.Inc(x*x, sumX2, cX2)
	}
	if constY {
		if math.IsInf(initY, 0) {
			return math.NaN(), math.NaN()
		}
		return 0, initY
	}
	sumX += cX
	sumY += cY
	sumXY += cXY
	sumX2 += cX2
	covXY := sumXY - sumX*sumY/n
	varX := sumX2 - sumX*sumX/n
	slope = covXY / varX
	intercept = sumY/n - slope*sumX/n
	return slope, intercept
}

// seriesSel evaluates fn over one series column: an instant selector (fnNone) or a
// range function over a range selector.
type seriesSel struct {
	cols     []int
	fn       rangeFn
	rangeMs  int64
	offsetMs int64
	arg      node // predict_linear duration
	pts      points
}

func (s *seriesSel) evalCol(r *ring, t int64, col int) (float64, bool) {
	end := t - s.offsetMs
	if s.fn == fnNone {
		i := r.search(end) - 1
		if i < r.head || r.ts[i] <= end-int64(Lookback/time.Millisecond) {
			return 0, false
		}
		return r.at(i, col), true
	}
	i, j := r.window(end-s.rangeMs, end)
	s.pts.reset()
	for k := i; k < j; k++ {
		s.pts.add(r.ts[k], r.at(k, col))
	}
	var arg float64
	if s.arg != nil {
		arg, _ = s.arg.eval(r, t)
	}
	return s.fn.apply(&s.pts, t, end, s.rangeMs, arg)
}

// aggNode is sum/min/max/count over the series a seriesSel yields.
type aggNode struct {
	op  parser.ItemType
	sel *seriesSel
}

func (n *aggNode) eval(r *ring, t int64) (float64, bool) {
	var acc, c float64
	seen := false
	for _, col := range n.sel.cols {
		v, ok := n.sel.evalCol(r, t, col)
		if !ok {
			continue
		}
		if !seen {
			seen = true
			switch n.op {
			case parser.COUNT:
				acc = 1
			default:
				acc = v
			}
			continue
		}
		switch n.op {
		case parser.SUM:
			acc, c = kahansum.Inc(v, acc, c)
		case parser.COUNT:
			acc++
		case parser.MAX:
			if v > acc || math.IsNaN(acc) {
				acc = v
			}
		case parser.MIN:
			if v < acc || math.IsNaN(acc) {
				acc = v
			}
		}
	}
	if !seen {
		return 0, false
	}
	if n.op == parser.SUM && !math.IsInf(acc, 0) {
		acc += c
	}
	return acc, true
}

// quantileNode is histogram_quantile(q, sum by (le) (sel)) over classic buckets,
// computed by promql.BucketQuantile itself.
type quantileNode struct {
	q       node
	sel     *seriesSel
	bounds  []float64 // per sel.cols
	buckets promql.Buckets
}

func (n *quantileNode) eval(r *ring, t int64) (float64, bool) {
	q, _ := n.q.eval(r, t)
	n.buckets = n.buckets[:0]
	for k, col := range n.sel.cols {
		v, ok := n.sel.evalCol(r, t, col)
		if !ok {
			continue
		}
		n.buckets = append(n.buckets, promql.Bucket{UpperBound: n.bounds[k], Count: v})
	}
	if len(n.buckets) == 0 {
		return 0, false
	}
	v, _, _, _, _, _ := promql.BucketQuantile(q, n.buckets)
	return v, true
}

// subqueryNode is fn(x[range:step] offset o): x evaluated at the multiples of step in
// (t-o-range, t-o], as the engine aligns subqueries to absolute time.
type subqueryNode struct {
	fn                      rangeFn
	x                       node
	rangeMs, stepMs, offset int64
	arg                     node
	pts                     points
}

func (n *subqueryNode) eval(r *ring, t int64) (float64, bool) {
	end := t - n.offset
	start := n.stepMs * ((end - n.rangeMs) / n.stepMs)
	if start <= end-n.rangeMs {
		start += n.stepMs
	}
	// Evaluate inner points first: they reuse nothing of n.pts.
	var arg float64
	if n.arg != nil {
		arg, _ = n.arg.eval(r, t)
	}
	n.pts.reset()
	for ts := start; ts <= end; ts += n.stepMs {
		if v, ok := n.x.eval(r, ts); ok {
			n.pts.add(ts, v)
		}
	}
	return n.fn.apply(&n.pts, t, end, n.rangeMs, arg)
}

// bucketBound parses the le label of series col.
func bucketBound(col int) (float64, bool) {
	le := series[col].Labels.Get("le")
	if le == "" {
		return 0, false
	}
	if le == "+Inf" {
		return math.Inf(1), true
	}
	var f float64
	if _, err := fmt.Sscan(le, &f); err != nil {
		return 0, false
	}
	return f, true
}
