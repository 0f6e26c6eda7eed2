// Package fluid is a fast, approximate model of the same cluster the discrete-event
// simulator (sim) runs: instead of one event per request it advances the arrival
// rate, the replicas' capacity and a carried-over backlog in steps of at most a
// second, and takes the latency of each step from queueing theory (the M/G/k
// response-time tail of the elasticity package while the cluster keeps up, the
// backlog's FIFO wait plus the service time while it does not). It is a
// deterministic state machine driven like sim.Sim (Step, Observe, Totals,
// SetRecorder), emits the same scrapes, so the features a policy sees are computed by
// the same code, and its cost does not grow with the request rate.
//
// What it models: Poisson arrivals per step (or their mean), replica start-up delay
// from the configured distribution, Provisioning -> Ready -> Draining -> Gone with
// cancellation of provisioning replicas first, per-replica queue bounds (503) and
// timeouts (504), no ready replica (503). What it does not: load-balancer imbalance,
// per-request randomness beyond the queueing formulas, requests lost at drain expiry.
// MODEL.md in the sim package describes the request-level model it approximates;
// README's Learners section gives its measured error.
package fluid

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// maxStep is the longest step of the fluid dynamics.
const maxStep = time.Second

// Model is the fluid cluster. Build it with New; it is not safe for concurrent use.
type Model struct {
	cfg  sim.Config
	tr   *traces.Trace
	q    elasticity.Queue
	rng  *rand.Rand
	mean bool // arrivals at their mean instead of Poisson counts
	noQ  bool // Options.NoLatencyQuantiles

	now, end, nextScrape time.Duration
	desired              int
	ready                int
	prov                 []time.Duration // ready times, in request order
	drain                []time.Duration // gone times
	backlog              float64         // requests waiting beyond the stationary queue
	mu                   float64         // service rate of one slot, 1/s

	// Cumulative counters (the scrape's) and totals.
	ok, rejected, timedOut float64
	buckets                [len(sim.DefBuckets)]float64
	durSum, busy, repSec   float64
	arrived                float64
	// The stationary completions not yet binned, all at one load.
	stat part
	lq   float64 // stationary queue length of the last step
	// tails gives the stationary tail at the histogram's bounds and the SLO latency
	// (tailAt), into tailBuf; exactTails computes them by partTail instead (tests).
	tails      *elasticity.TailTable
	tailAt     [len(sim.DefBuckets) + 1]float64
	tailBuf    [len(sim.DefBuckets) + 1]float64
	exactTails bool

	win    window
	obs    sim.Observation
	rec    sim.Recorder
	scrape sim.Scrape
	done   bool
	// interrupted is set once Config.Interrupt stopped the run.
	interrupted bool
}

// Err returns sim.ErrInterrupted once Config.Interrupt has stopped the run, else nil.
func (m *Model) Err() error {
	if m.interrupted {
		return sim.ErrInterrupted
	}
	return nil
}

// window accumulates one control interval for the Observation.
type window struct {
	arrivals, completed, dropped, violations float64
	busyReady, slotSec                       float64
	parts                                    []part // the interval's latency mixture
}

// part is one component of an interval's response-time distribution: n requests
// with a stationary M/G/k response at rate (the arrival process's, requests/s) and k
// servers (worker slots), whose Erlang C probability is c; or (k == 0) a FIFO wait
// of wait seconds plus the service time.
type part struct {
	n, rate, wait, c float64
	k                int
}

// Options select details of the model.
type Options struct {
	// MeanArrivals uses each step's expected arrivals instead of a Poisson count.
	// Default false (Poisson, as the simulator draws them).
	MeanArrivals bool
	// NoLatencyQuantiles leaves the Observation's LatencyP50/P95/P99 at 0, for
	// callers that read latency from the scrapes only (the training environment):
	// the quantiles are most of a step's cost. Default false.
	NoLatencyQuantiles bool
}

// New returns the model of cfg (validated here, defaults filled) over tr, from time
// zero with cfg.InitialReplicas Ready.
func New(cfg sim.Config, tr *traces.Trace, opt Options) (*Model, error) {
	c := cfg
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if tr == nil {
		return nil, errors.New("fluid: nil trace")
	}
	if err := tr.Validate(); err != nil {
		return nil, fmt.Errorf("fluid: %w", err)
	}
	m := &Model{cfg: c, tr: tr, mean: opt.MeanArrivals, noQ: opt.NoLatencyQuantiles,
		rng: rand.New(rand.NewPCG(c.Seed, 0x666c756964)), // stream "fluid"
		end: tr.Duration(), nextScrape: c.ScrapeInterval, mu: 1 / c.ServiceTime.MeanSeconds(),
		q: c.QueueModel()}
	copy(m.tailAt[:], sim.DefBuckets[:])
	m.tailAt[len(sim.DefBuckets)] = m.q.SLOLatency
	m.tails = tailTable(m.q, m.tailAt[:])
	m.ready = min(max(c.InitialReplicas, c.Min()), c.MaxReplicas)
	m.desired = m.ready
	m.obs = sim.Observation{Ready: m.ready, Desired: m.desired, Slots: c.Concurrency,
		MinReplicas: c.Min(), MaxReplicas: c.MaxReplicas,
		LatencyP50: math.NaN(), LatencyP95: math.NaN(), LatencyP99: math.NaN()}
	return m, nil
}

// tables holds the tail tables of the services seen, shared by their models (an
// episode is one model, and a table fills as it is used); at most maxTables. A
// table's values are a function of its key alone, so sharing changes no result.
var tables struct {
	sync.Mutex
	m map[tableKey]*elasticity.TailTable
}

const maxTables = 64

type tableKey struct{ mean, scv, slo float64 }

// tailTable returns the shared table of q at the times ts (the histogram's bounds and
// q.SLOLatency).
func tailTable(q elasticity.Queue, ts []float64) *elasticity.TailTable {
	k := tableKey{q.ServiceMean, q.ServiceSCV, q.SLOLatency}
	tables.Lock()
	defer tables.Unlock()
	if t, ok := tables.m[k]; ok {
		return t
	}
	t := elasticity.NewTailTable(q, ts)
	if tables.m == nil {
		tables.m = map[tableKey]*elasticity.TailTable{}
	}
	if len(tables.m) < maxTables {
		tables.m[k] = t
	}
	return t
}

// SetRecorder makes the model hand every scrape to r (nil to stop).
func (m *Model) SetRecorder(r sim.Recorder) { m.rec = r }

// Config returns the configuration in force, defaults filled.
func (m *Model) Config() sim.Config { return m.cfg }

// Observe returns the latest observation.
func (m *Model) Observe() sim.Observation { return m.obs }

// Now is the current virtual time.
func (m *Model) Now() time.Duration { return m.now }

// Totals returns the cumulative figures (counts rounded to whole requests). Requests
// of the stationary queue count as completed when they arrive, so InFlight is the
// backlog alone and Arrived = Completed + Dropped + InFlight holds (to rounding).
func (m *Model) Totals() sim.Totals {
	r := func(x float64) int64 { return int64(math.Round(x)) }
	return sim.Totals{Arrived: r(m.arrived), Completed: r(m.ok), Dropped: r(m.rejected + m.timedOut),
		Rejected: r(m.rejected), TimedOut: r(m.timedOut), BusySeconds: m.busy,
		InFlight: r(m.backlog), ReplicaSeconds: m.repSec, Cost: m.repSec / 3600 * m.cfg.CostPerReplicaHour}
}

// Step applies desired (clamped to the bounds) and advances one control interval, as
// sim.Sim.Step does: it returns the observation at the interval's end and done once
// the trace is exhausted.
func (m *Model) Step(desired int) (sim.Observation, bool) {
	if m.done {
		return m.obs, true
	}
	if m.cfg.Interrupt != nil && m.cfg.Interrupt() {
		// A fluid step is microseconds of work: polling once per Step is prompt.
		m.interrupted, m.done = true, true
		return m.obs, true
	}
	m.desired = min(max(desired, m.cfg.Min()), m.cfg.MaxReplicas)
	m.scale(m.desired)
	start := m.now
	end := min(start+m.cfg.ControlInterval, m.end)
	m.win = window{parts: m.win.parts[:0]}
	lastScrape := time.Duration(-1)
	for m.nextScrape <= end {
		m.advance(m.nextScrape)
		m.record(m.nextScrape)
		lastScrape = m.nextScrape
		m.nextScrape += m.cfg.ScrapeInterval
	}
	m.advance(end)
	m.done = end >= m.end
	if m.done && lastScrape != end {
		m.record(end)
	}
	m.observe(start, end)
	return m.obs, m.done
}

// scale moves Provisioning plus Ready to n: new replicas start Provisioning with a
// sampled start-up delay; surplus ones are cancelled (Provisioning, latest first)
// or start Draining, which lasts as long as their share of the backlog and one mean
// service time, at most the drain grace.
func (m *Model) scale(n int) {
	have := m.ready + len(m.prov)
	for ; have < n; have++ {
		d := time.Duration(m.cfg.StartupDelay.Sample(m.rng) * float64(time.Second))
		m.prov = append(m.prov, m.now+d)
	}
	for ; have > n && len(m.prov) > 0; have-- {
		m.prov = m.prov[:len(m.prov)-1]
	}
	for ; have > n; have-- {
		k := float64(m.ready * m.cfg.Concurrency)
		d := 1 / m.mu
		if k > 0 {
			d += (m.backlog + m.lq) / (k * m.mu)
		}
		d = min(d, m.cfg.DrainGrace.Seconds())
		m.ready--
		m.drain = append(m.drain, m.now+time.Duration(d*float64(time.Second)))
	}
}

// advance runs the dynamics to t in steps of at most maxStep, ending steps at bucket
// boundaries so that each step has one arrival rate.
func (m *Model) advance(t time.Duration) {
	for m.now < t {
		next := min(t, m.now+maxStep)
		if b := m.tr.Bucket; b > 0 {
			next = min(next, (m.now/b+1)*b)
		}
		m.step(m.now, next)
		m.now = next
	}
	m.transitions(t)
}

// transitions makes the replicas due by t Ready or Gone.
func (m *Model) transitions(t time.Duration) {
	k := 0
	for _, at := range m.prov {
		if at <= t {
			k++
		}
	}
	if k > 0 {
		m.ready += k
		m.prov = append(m.prov[:0], m.prov[k:]...)
	}
	n := 0
	for _, at := range m.drain {
		if at > t {
			m.drain[n] = at
			n++
		}
	}
	m.drain = m.drain[:n]
}

// step is one step of the dynamics over [t0, t1).
func (m *Model) step(t0, t1 time.Duration) {
	m.transitions(t0)
	h := (t1 - t0).Seconds()
	lambda := m.tr.RateAt(t0)
	a := lambda * h
	if !m.mean && a > 0 {
		a = poisson(m.rng, a)
	}
	m.arrived += a
	m.win.arrivals += a
	m.repSec += float64(m.ready+len(m.prov)+len(m.drain)) * h
	servers := m.ready * m.cfg.Concurrency
	m.win.slotSec += float64(servers) * h
	if servers == 0 {
		m.flushStationary()
		m.stat.k = 0
		// No ready replica: every arrival and the backlog are refused (503).
		m.drop(a+m.backlog, &m.rejected)
		m.backlog, m.lq = 0, 0
		return
	}
	c := float64(servers) * m.mu * h // requests the servers can finish in the step
	rate := a / h
	if m.backlog == 0 && lambda < float64(servers)*m.mu && rate < float64(servers)*m.mu {
		// Keeping up: the stationary M/G/k queue at the arrival process's rate.
		if servers != m.stat.k || lambda != m.stat.rate {
			m.flushStationary()
			load := lambda / m.mu
			m.stat = part{rate: lambda, k: servers, c: elasticity.ErlangC(servers, load)}
			rho := load / float64(servers)
			m.lq = m.stat.c * rho / (1 - rho) * (1 + m.q.ServiceSCV) / 2
		}
		m.stat.n += a
		m.complete(a, 0, true)
		m.busyFor(a / m.mu)
		p := m.stat
		p.n = a
		m.win.parts = appendPart(m.win.parts, p)
		return
	}
	m.flushStationary()
	m.stat.k = 0 // the next stationary step starts a new load
	// Behind: a FIFO backlog drained at full capacity.
	before := m.backlog
	served := min(before+a, c)
	after := before + a - served
	// Queue bound (503) and timeouts (504) on what is left waiting.
	if bound := float64(m.ready * m.cfg.Queue()); after > bound {
		m.drop(after-bound, &m.rejected)
		after = bound
	}
	if limit := float64(servers) * m.mu * m.cfg.Timeout.Seconds(); after > limit {
		m.drop(after-limit, &m.timedOut)
		after = limit
	}
	wait := (before + after) / 2 / (float64(servers) * m.mu)
	m.backlog, m.lq = after, 0
	m.complete(served, wait, false)
	m.busyFor(served / m.mu)
	m.win.parts = appendPart(m.win.parts, part{n: served, wait: wait})
}

// appendPart merges a part into the previous one when they have the same shape.
func appendPart(ps []part, p part) []part {
	if p.n <= 0 {
		return ps
	}
	if n := len(ps); n > 0 && ps[n-1].k == p.k && ps[n-1].wait == p.wait && ps[n-1].rate == p.rate {
		ps[n-1].n += p.n
		return ps
	}
	return append(ps, p)
}

func (m *Model) busyFor(slotSeconds float64) {
	m.busy += slotSeconds
	m.win.busyReady += slotSeconds
}

func (m *Model) drop(n float64, counter *float64) {
	if n <= 0 {
		return
	}
	*counter += n
	m.win.dropped += n
	m.win.violations += n
}

// complete counts n completions: stationary ones are binned into the histogram
// later (flushStationary, at the current rate mix); backlogged ones, whose wait is
// wait seconds, now.
func (m *Model) complete(n, wait float64, stationary bool) {
	if n <= 0 {
		return
	}
	m.ok += n
	m.win.completed += n
	m.durSum += n * (wait + 1/m.mu)
	if stationary {
		return
	}
	for i, b := range sim.DefBuckets {
		m.buckets[i] += n * (1 - m.serviceTail(b-wait))
	}
	m.win.violations += n * m.serviceTail(m.q.SLOLatency-wait)
}

// flushStationary bins the stationary completions of the current load. The tails
// come from the elasticity.TailTable: exact for exponential and constant service,
// interpolated (within 5e-6, TestTailTableMatchesExact) for lognormal service, whose
// exact tail is a convolution that would cost most of a step at every 1 s bucket.
func (m *Model) flushStationary() {
	p := &m.stat
	if p.n <= 0 || p.k == 0 {
		return
	}
	tl := m.tailBuf[:]
	if m.exactTails {
		for i, t := range m.tailAt {
			tl[i] = m.partTail(*p, t)
		}
	} else {
		m.tails.Tails(p.k, p.rate, p.c, tl)
	}
	for i := range sim.DefBuckets {
		m.buckets[i] += p.n * (1 - tl[i])
	}
	m.win.violations += p.n * tl[len(sim.DefBuckets)]
	m.durSum += p.n * p.c / (float64(p.k)*m.mu - p.rate) * (1 + m.q.ServiceSCV) / 2 // Allen-Cunneen mean wait
	p.n = 0
}

// partTail is P(R > t) of one part.
func (m *Model) partTail(p part, t float64) float64 {
	if p.k == 0 {
		return m.serviceTail(t - p.wait)
	}
	return elasticity.ResponseTailC(m.q, p.k, p.rate, p.c, t)
}

func (m *Model) serviceTail(t float64) float64 {
	return elasticity.ResponseTail(m.q, 1, 0, t)
}

// record hands a scrape at t to the recorder.
func (m *Model) record(t time.Duration) {
	m.flushStationary()
	if m.rec == nil {
		return
	}
	sc := &m.scrape
	sc.Time = t
	sc.RequestsOK, sc.RequestsRejected, sc.RequestsTimedOut = m.ok, m.rejected, m.timedOut
	sc.DurationBuckets = m.buckets
	sc.DurationSum, sc.DurationCount = m.durSum, m.ok
	sc.BusySeconds = m.busy
	sc.Slots = float64(m.ready * m.cfg.Concurrency)
	busyNow := 0.0
	if k := float64(m.ready * m.cfg.Concurrency); k > 0 {
		busyNow = min(k, m.tr.RateAt(max(0, t-1))/m.mu)
		if m.backlog > 0 {
			busyNow = k
		}
	}
	sc.Queued = m.lq + m.backlog
	sc.InFlight = sc.Queued + busyNow
	sc.Ready, sc.Provisioning, sc.Draining = float64(m.ready), float64(len(m.prov)), float64(len(m.drain))
	sc.Desired = float64(m.desired)
	m.rec.Record(sc)
}

// observe fills the Observation of the interval [start, end).
func (m *Model) observe(start, end time.Duration) {
	m.flushStationary()
	w := end - start
	r := func(x float64) int { return int(math.Round(x)) }
	o := &m.obs
	*o = sim.Observation{Time: end, Window: w, Arrivals: r(m.win.arrivals), Completed: r(m.win.completed),
		Dropped: r(m.win.dropped), SLOViolations: r(m.win.violations),
		InFlight: r(m.backlog + m.lq), Queued: r(m.backlog + m.lq),
		Ready: m.ready, Provisioning: len(m.prov), Draining: len(m.drain), Desired: m.desired,
		Slots: m.cfg.Concurrency, MinReplicas: m.cfg.Min(), MaxReplicas: m.cfg.MaxReplicas}
	if s := w.Seconds(); s > 0 {
		o.ArrivalRate = m.win.arrivals / s
		o.BusySlots = m.win.busyReady / s
	}
	if m.win.slotSec > 0 {
		o.Utilisation = min(1, m.win.busyReady/m.win.slotSec)
	}
	if !m.noQ {
		o.LatencyP50, o.LatencyP95, o.LatencyP99 = m.quantile(0.5), m.quantile(0.95), m.quantile(0.99)
	}
}

// tail is P(R > t) of the interval's mixture.
func (m *Model) tail(t float64) float64 {
	var n, s float64
	for _, p := range m.win.parts {
		n += p.n
		s += p.n * m.partTail(p, t)
	}
	if n == 0 {
		return math.NaN()
	}
	return s / n
}

// quantile inverts tail by bisection (to 0.1 ms); NaN when nothing completed.
func (m *Model) quantile(p float64) float64 {
	if len(m.win.parts) == 0 {
		return math.NaN()
	}
	lo, hi := 0.0, 1.0
	for m.tail(hi) > 1-p && hi < 1e4 {
		lo, hi = hi, hi*2
	}
	for hi-lo > 1e-4 {
		mid := (lo + hi) / 2
		if m.tail(mid) > 1-p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// poisson draws a Poisson count of mean a: by inversion for small means, by the
// normal approximation (continuity-corrected, non-negative) for large ones, where a
// step's count is a sum of many independent arrivals anyway.
func poisson(r *rand.Rand, a float64) float64 {
	if a < 30 {
		l, k, p := math.Exp(-a), 0.0, r.Float64()
		for s := l; p > s; s += l {
			k++
			l *= a / k
		}
		return k
	}
	return max(0, math.Round(a+math.Sqrt(a)*r.NormFloat64()))
}
