// Package sim is a discrete-event simulator of one service behind a load balancer:
// arrivals from a trace, replicas with start-up delay, queues, draining and cost. It is
// a deterministic state machine in virtual time, driven by its caller: the same
// configuration, trace and seed give the same bytes out.
//
// Time is int64 nanoseconds since the start of the trace. Events are ordered by
// (time, sequence number); the next arrival is kept aside and generated one at a
// time, so memory does not grow with the trace. MODEL.md describes the model.
package sim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/traces"
)

// Row is one control interval of a run's timeline.
type Row struct {
	Time                          time.Duration // end of the interval
	ArrivalRate                   float64       // requests per second
	Arrivals, Completed, Dropped  int
	SLOViolations                 int
	P50, P95, P99                 float64 // seconds; NaN when none completed
	Utilisation                   float64
	Ready, Provisioning, Draining int
	// Desired is the decision taken at the end of this interval (the count in force
	// during the next one). Run fills it so; LastRow, which cannot know the next
	// decision yet, gives the count in force during this interval.
	Desired int
	Demand  int // elasticity.Demand at the interval's arrival rate
	// Supply is the mean number of Ready replicas over the interval (time-weighted,
	// rounded to nearest): the s_t of the elasticity metrics. Unlike Ready, a replica
	// that became Ready at the interval's end adds nothing to it.
	Supply int
	Cost   float64 // accrued in this interval
	// InFlight (queued plus in service) and Queued at the end of the interval.
	InFlight, Queued int
}

// Totals are cumulative figures since the start of the run.
type Totals struct {
	// Arrived = Completed + Dropped + InFlight at every step.
	Arrived, Completed, Dropped, InFlight int64
	// Rejected (503: no ready replica, queue full, drain expiry) and TimedOut (504)
	// split Dropped.
	Rejected, TimedOut int64
	// Started counts requests that began service; WaitSeconds sums their time in
	// queue (arrival to start of service).
	Started     int64
	WaitSeconds float64
	// ResponseSeconds sums the response times of completed requests.
	ResponseSeconds float64
	// InFlightSeconds is the time integral of the in-flight count (request-seconds).
	InFlightSeconds float64
	// BusySeconds is worker-slot seconds spent serving, on any replica.
	BusySeconds float64
	// ReplicaSeconds integrates replicas that exist (requested, not yet Gone).
	ReplicaSeconds float64
	// Cost is ReplicaSeconds / 3600 * CostPerReplicaHour.
	Cost float64
	// Events counts events processed, arrivals included.
	Events int64
}

// Replica states.
const (
	stateGone uint8 = iota
	stateProvisioning
	stateReady
	stateDraining
)

type replica struct {
	state        uint8
	gen          uint32 // bumped when the replica goes Gone: stale events are ignored
	busy         int32  // slots serving
	qlen         int32
	qhead, qtail int32 // FIFO of waiting requests, linked through request.next
	requestedAt  int64
	readyAt      int64 // scheduled (Provisioning) or actual (Ready) time of readiness
	firstServe   int64 // time the replica first started a request, -1 before
	served       int64 // requests started
	assigned     int64 // arrivals the balancer sent here
}

type request struct {
	arrival int64
	service int64 // service time in ns, drawn at arrival
	next    int32 // next in the replica queue, -1 at the tail
	replica int32
	rgen    uint32 // replica generation when service started
}

// windowSums are figures over the current control window.
type windowSums struct {
	arrivals, completed, dropped, violations int64
	busyReady, slotsReady, replica           float64 // seconds-weighted integrals
}

// Sim is one simulated service. Create it with New, then call Step once per control
// interval (or use Run).
type Sim struct {
	cfg Config
	tr  *traces.Trace
	streams
	svc      sampler
	startup  sampler
	balancer uint8

	conc, qcap              int32
	timeout, grace          int64
	ctrl, scrapeEvery, endT int64
	sloNs                   int64

	now, lastT  int64
	done        bool
	interrupted bool
	nextScrape  int64

	// Arrivals: the next one, and where the generator stands in the trace.
	nextArr   int64
	arrBucket int   // Poisson: current bucket
	arrCursor int64 // Poisson: time the next gap is drawn from
	arrIdx    int   // exact arrivals: index of the next one

	events  eventQueue
	seq     uint64
	reqs    []request
	free    []int32
	reps    []replica
	ready   []int32 // indices of Ready replicas, ascending
	rrNext  int
	desired int

	nProv, nReady, nDrain          int
	busyAll, busyReady, slotsReady int64
	inflight, queued, existing     int64
	pBusyAll, pBusyReady, pSlots   int64 // ns-weighted integrals since the last flush
	pInflight, pReplica            int64
	win                            windowSums
	tot                            Totals
	durBuckets                     [len(DefBuckets)]uint64
	durSum                         float64
	winHist, runHist               LatencyHistogram
	rec                            Recorder
	scrape                         Scrape
	obs                            Observation
	row                            Row
	rowDemand                      bool
	demandRate                     float64
	demandValue                    int
	demandCached                   bool
}

const never = math.MaxInt64

// ErrInterrupted is the error of a run stopped by Config.Interrupt.
var ErrInterrupted = errors.New("sim: interrupted")

// InterruptEvery is how many events the simulator processes between two polls of
// Config.Interrupt: a few hundred microseconds of work at the simulator's speed, and
// a negligible cost per event.
const InterruptEvery = 1 << 12

// New validates cfg (filling defaults into the copy it keeps) and tr, and returns a
// simulator at time zero with cfg.InitialReplicas Ready.
func New(cfg Config, tr *traces.Trace) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tr == nil {
		return nil, fmt.Errorf("sim: no trace")
	}
	if err := tr.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	if steps := tr.Duration() / cfg.ControlInterval; steps > MaxSteps {
		return nil, &yamldoc.FieldError{Path: "control_interval", Value: cfg.ControlInterval,
			Err: fmt.Errorf("%d control intervals over the %s of trace %q: more than %d", steps, yamldoc.Duration(tr.Duration()), tr.Name, MaxSteps)}
	}
	s := &Sim{
		cfg:         cfg,
		tr:          tr,
		streams:     newStreams(cfg.Seed),
		svc:         newSampler(cfg.ServiceTime),
		startup:     newSampler(cfg.StartupDelay),
		conc:        int32(cfg.Concurrency),
		qcap:        int32(min(cfg.Queue(), math.MaxInt32)),
		timeout:     int64(cfg.Timeout),
		grace:       int64(cfg.DrainGrace),
		ctrl:        int64(cfg.ControlInterval),
		scrapeEvery: int64(cfg.ScrapeInterval),
		endT:        int64(tr.Duration()),
		sloNs:       int64(cfg.SLO.Latency),
		nextScrape:  int64(cfg.ScrapeInterval),
		desired:     cfg.InitialReplicas,
	}
	switch cfg.Balancer {
	case RoundRobin:
		s.balancer = 1
	case Random:
		s.balancer = 2
	}
	// Preallocate for the usual number of requests in the system, bounded so that
	// huge queue capacities do not reserve memory they may never use.
	bound := min(cfg.MaxReplicas*(cfg.Concurrency+cfg.Queue()), 1<<16)
	s.reqs = make([]request, 0, bound)
	s.free = make([]int32, 0, bound)
	s.events = make(eventQueue, 0, min(cfg.MaxReplicas*cfg.Concurrency*2+64, 1<<16))
	s.reps = make([]replica, 0, cfg.MaxReplicas*2)
	s.ready = make([]int32, 0, cfg.MaxReplicas*2)
	for range cfg.InitialReplicas {
		r := s.newReplica()
		s.reps[r].readyAt = 0
		s.becomeReady(r)
	}
	s.nextArrival()
	s.obs = Observation{
		LatencyP50: math.NaN(), LatencyP95: math.NaN(), LatencyP99: math.NaN(),
		Ready: s.nReady, Desired: s.desired,
		MinReplicas: cfg.Min(), MaxReplicas: cfg.MaxReplicas,
	}
	return s, nil
}

// SetRecorder makes the simulator hand every scrape to r (nil to stop).
func (s *Sim) SetRecorder(r Recorder) { s.rec = r }

// Config returns the configuration in force, defaults filled.
func (s *Sim) Config() Config { return s.cfg }

// Observe returns the latest observation: before the first Step, the initial one
// (time zero, empty window, NaN latencies, InitialReplicas Ready).
func (s *Sim) Observe() Observation { return s.obs }

// Now is the current virtual time.
func (s *Sim) Now() time.Duration { return time.Duration(s.now) }

// Totals returns the cumulative figures at the current time.
func (s *Sim) Totals() Totals {
	t := s.tot
	t.InFlight = s.inflight
	t.BusySeconds += float64(s.pBusyAll) * 1e-9
	t.InFlightSeconds += float64(s.pInflight) * 1e-9
	t.ReplicaSeconds += float64(s.pReplica) * 1e-9
	t.Cost = t.ReplicaSeconds / 3600 * s.cfg.CostPerReplicaHour
	return t
}

// Err returns ErrInterrupted once Config.Interrupt has stopped the run, else nil.
func (s *Sim) Err() error {
	if s.interrupted {
		return ErrInterrupted
	}
	return nil
}

// poll asks Config.Interrupt whether to stop, remembering a yes.
func (s *Sim) poll() bool {
	if !s.interrupted && s.cfg.Interrupt != nil && s.cfg.Interrupt() {
		s.interrupted, s.done = true, true
	}
	return s.interrupted
}

// Step applies desired (clamped to [MinReplicas, MaxReplicas]) and advances virtual
// time by one control interval. It returns the observation at the end of that interval
// and done=true once the trace is exhausted (the last, possibly partial, interval).
// Calling Step after done returns the last observation and changes nothing.
//
// When Config.Interrupt stops the run during a Step, Step returns the previous
// observation with done=true, Err returns ErrInterrupted, and the simulator is left
// part-way through the interval (it can only be discarded).
func (s *Sim) Step(desired int) (obs Observation, done bool) {
	if s.done || s.poll() {
		return s.obs, true
	}
	s.desired = min(max(desired, s.cfg.Min()), s.cfg.MaxReplicas)
	s.scale(s.desired)
	start := s.now
	end := min(start+s.ctrl, s.endT)
	s.win = windowSums{}
	s.winHist.Reset()
	lastScrape := int64(-1)
	for n := 1; s.nextScrape <= end; n++ {
		if !s.runUntil(s.nextScrape) || n%InterruptEvery == 0 && s.poll() {
			return s.obs, true
		}
		s.flush()
		s.record(s.nextScrape)
		lastScrape = s.nextScrape
		s.nextScrape += s.scrapeEvery
	}
	if !s.runUntil(end) {
		return s.obs, true
	}
	s.flush()
	s.done = end >= s.endT
	if s.done && lastScrape != end {
		s.record(end)
	}
	s.observe(start, end)
	if s.cfg.Progress != nil {
		s.cfg.Progress(time.Duration(end), time.Duration(s.endT))
	}
	return s.obs, s.done
}

// LastRow returns the timeline row of the interval just stepped (the zero Row before
// the first Step). Its Demand is computed here, on first call, by elasticity.Demand.
func (s *Sim) LastRow() Row {
	if !s.rowDemand && s.row.Time > 0 {
		s.row.Demand = s.demand(s.row.ArrivalRate)
		s.rowDemand = true
	}
	return s.row
}

func (s *Sim) demand(rate float64) int {
	if s.demandCached && rate == s.demandRate {
		return s.demandValue
	}
	s.demandRate, s.demandValue, s.demandCached = rate, elasticity.Demand(s.cfg.QueueModel(), rate), true
	return s.demandValue
}

func (s *Sim) observe(start, end int64) {
	w := end - start
	var q [3]float64
	s.winHist.quantiles([]float64{0.5, 0.95, 0.99}, q[:])
	util := 0.0
	if s.win.slotsReady > 0 {
		util = min(s.win.busyReady/s.win.slotsReady, 1)
	}
	rate, busy := 0.0, 0.0
	supply := s.nReady
	if w > 0 {
		// slotsReady integrates Concurrency slots per Ready replica.
		supply = int(math.Round(s.win.slotsReady / (float64(s.conc) * float64(w) * 1e-9)))
		rate = float64(s.win.arrivals) / (float64(w) * 1e-9)
		busy = s.win.busyReady / (float64(w) * 1e-9)
	}
	s.obs = Observation{
		Time:          time.Duration(end),
		Window:        time.Duration(w),
		Arrivals:      int(s.win.arrivals),
		Completed:     int(s.win.completed),
		Dropped:       int(s.win.dropped),
		ArrivalRate:   rate,
		LatencyP50:    q[0],
		LatencyP95:    q[1],
		LatencyP99:    q[2],
		SLOViolations: int(s.win.violations),
		Utilisation:   util,
		BusySlots:     busy,
		InFlight:      int(s.inflight),
		Queued:        int(s.queued),
		Ready:         s.nReady,
		Provisioning:  s.nProv,
		Draining:      s.nDrain,
		Desired:       s.desired,
		Slots:         s.cfg.Concurrency,
		MinReplicas:   s.cfg.Min(),
		MaxReplicas:   s.cfg.MaxReplicas,
	}
	s.row = Row{
		Time:          time.Duration(end),
		ArrivalRate:   rate,
		Arrivals:      s.obs.Arrivals,
		Completed:     s.obs.Completed,
		Dropped:       s.obs.Dropped,
		SLOViolations: s.obs.SLOViolations,
		P50:           q[0],
		P95:           q[1],
		P99:           q[2],
		Utilisation:   util,
		Ready:         s.nReady,
		Provisioning:  s.nProv,
		Draining:      s.nDrain,
		Desired:       s.desired,
		Supply:        supply,
		Cost:          s.win.replica / 3600 * s.cfg.CostPerReplicaHour,
		InFlight:      int(s.inflight),
		Queued:        int(s.queued),
	}
	s.rowDemand = false
}

func (s *Sim) record(t int64) {
	if s.rec == nil {
		return
	}
	sc := &s.scrape
	sc.Time = time.Duration(t)
	sc.RequestsOK = float64(s.tot.Completed)
	sc.RequestsRejected = float64(s.tot.Rejected)
	sc.RequestsTimedOut = float64(s.tot.TimedOut)
	var cum uint64
	for i, c := range s.durBuckets {
		cum += c
		sc.DurationBuckets[i] = float64(cum)
	}
	sc.DurationSum = s.durSum
	sc.DurationCount = float64(s.tot.Completed)
	sc.BusySeconds = s.tot.BusySeconds
	sc.Slots = float64(s.slotsReady)
	sc.InFlight = float64(s.inflight)
	sc.Queued = float64(s.queued)
	sc.Ready = float64(s.nReady)
	sc.Provisioning = float64(s.nProv)
	sc.Draining = float64(s.nDrain)
	sc.Desired = float64(s.desired)
	s.rec.Record(sc)
}

// advance integrates the state counts over [lastT, t).
func (s *Sim) advance(t int64) {
	dt := t - s.lastT
	if dt == 0 {
		return
	}
	s.pBusyAll += s.busyAll * dt
	s.pBusyReady += s.busyReady * dt
	s.pSlots += s.slotsReady * dt
	s.pInflight += s.inflight * dt
	s.pReplica += s.existing * dt
	s.lastT = t
}

// flush moves the integer integrals into the window and run totals (in seconds). It
// runs at least once per scrape, so the int64 integrals cannot overflow.
func (s *Sim) flush() {
	s.win.busyReady += float64(s.pBusyReady) * 1e-9
	s.win.slotsReady += float64(s.pSlots) * 1e-9
	s.win.replica += float64(s.pReplica) * 1e-9
	s.tot.BusySeconds += float64(s.pBusyAll) * 1e-9
	s.tot.InFlightSeconds += float64(s.pInflight) * 1e-9
	s.tot.ReplicaSeconds += float64(s.pReplica) * 1e-9
	s.tot.Cost = s.tot.ReplicaSeconds / 3600 * s.cfg.CostPerReplicaHour
	s.pBusyAll, s.pBusyReady, s.pSlots, s.pInflight, s.pReplica = 0, 0, 0, 0, 0
}

// runUntil processes every event at or before t, then sets the clock to t. It
// returns false, leaving the clock at the last event, when Config.Interrupt stopped
// the run.
func (s *Sim) runUntil(t int64) bool {
	for {
		et := int64(never)
		if len(s.events) > 0 {
			et = s.events[0].t
		}
		if et <= s.nextArr {
			if et > t {
				break
			}
			ev := s.events.pop()
			s.advance(ev.t)
			s.now = ev.t
			s.handle(ev)
		} else {
			if s.nextArr > t {
				break
			}
			s.advance(s.nextArr)
			s.now = s.nextArr
			s.arrive()
			s.nextArrival()
		}
		s.tot.Events++
		if s.tot.Events%InterruptEvery == 0 && s.poll() {
			return false
		}
	}
	s.advance(t)
	s.now = t
	return true
}

func (s *Sim) schedule(t int64, kind uint8, idx int32, gen uint32) {
	s.seq++
	s.events.push(event{t: t, seq: s.seq, idx: idx, gen: gen, kind: kind})
}

// nextArrival sets nextArr to the time of the next arrival, or never.
//
// Poisson arrivals: within a bucket of rate λ the gap to the next arrival is
// exponential with mean 1/λ. A gap that crosses the bucket's end is discarded and
// drawn afresh from the boundary with the next bucket's rate, which is exact by
// memorylessness. Buckets of rate 0 are skipped without drawing.
func (s *Sim) nextArrival() {
	tr := s.tr
	if tr.Arrivals != nil {
		if s.arrIdx < len(tr.Arrivals) {
			s.nextArr = int64(tr.Arrivals[s.arrIdx])
			s.arrIdx++
		} else {
			s.nextArr = never
		}
		return
	}
	bucket := int64(tr.Bucket)
	for s.arrBucket < len(tr.Rates) {
		rate := tr.Rates[s.arrBucket]
		bend := int64(s.arrBucket+1) * bucket
		if rate > 0 {
			gap := s.arrRng.ExpFloat64() / rate * 1e9
			if float64(s.arrCursor)+gap < float64(bend) {
				t := s.arrCursor + int64(gap)
				if t < bend {
					s.arrCursor = t
					s.nextArr = t
					return
				}
			}
		}
		s.arrCursor = bend
		s.arrBucket++
	}
	s.nextArr = never
}

func (s *Sim) newRequest(arrival, service int64) int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		s.reqs[i] = request{arrival: arrival, service: service, next: -1}
		return i
	}
	s.reqs = append(s.reqs, request{arrival: arrival, service: service, next: -1})
	return int32(len(s.reqs) - 1)
}

func (s *Sim) freeRequest(i int32) { s.free = append(s.free, i) }

// drop counts one dropped request; code is 503 or 504.
func (s *Sim) drop(n int64, code int) {
	s.tot.Dropped += n
	s.win.dropped += n
	s.win.violations += n
	if code == 504 {
		s.tot.TimedOut += n
	} else {
		s.tot.Rejected += n
	}
}

func (s *Sim) arrive() {
	s.tot.Arrived++
	s.win.arrivals++
	// Drawn before the request's fate is known, so that the n-th arrival has the
	// same service time whatever the policy (common random numbers).
	service := s.svc.sampleNs(s.svcRng)
	r := s.pick()
	if r < 0 {
		s.drop(1, 503)
		return
	}
	rep := &s.reps[r]
	rep.assigned++
	switch {
	case rep.busy < s.conc:
		s.inflight++
		s.start(r, s.newRequest(s.now, service))
	case rep.qlen < s.qcap:
		s.inflight++
		s.queued++
		q := s.newRequest(s.now, service)
		if rep.qlen == 0 {
			rep.qhead = q
		} else {
			s.reqs[rep.qtail].next = q
		}
		rep.qtail = q
		rep.qlen++
	default:
		s.drop(1, 503)
	}
}

// start begins serving request q on replica r. A request whose service would end
// after its deadline (arrival + Timeout) is scheduled to time out at the deadline.
func (s *Sim) start(r int32, q int32) {
	rep := &s.reps[r]
	rep.busy++
	s.busyAll++
	if rep.state == stateReady {
		s.busyReady++
	}
	if rep.firstServe < 0 {
		rep.firstServe = s.now
	}
	rep.served++
	req := &s.reqs[q]
	req.replica = r
	req.rgen = rep.gen
	s.tot.Started++
	s.tot.WaitSeconds += float64(s.now-req.arrival) * 1e-9
	end := s.now + req.service
	if deadline := req.arrival + s.timeout; end > deadline {
		s.schedule(deadline, evTimeout, q, 0)
	} else {
		s.schedule(end, evDone, q, 0)
	}
}

func (s *Sim) handle(ev event) {
	switch ev.kind {
	case evDone, evTimeout:
		s.finish(ev.idx, ev.kind == evTimeout)
	case evReady:
		if rep := &s.reps[ev.idx]; rep.gen == ev.gen && rep.state == stateProvisioning {
			s.becomeReady(ev.idx)
		}
	case evDrainEnd:
		if rep := &s.reps[ev.idx]; rep.gen == ev.gen && rep.state == stateDraining {
			s.expireDrain(ev.idx)
		}
	}
}

// finish ends service of request q: completed, or timed out in service.
func (s *Sim) finish(q int32, timedOut bool) {
	req := &s.reqs[q]
	r := req.replica
	rep := &s.reps[r]
	if rep.gen != req.rgen {
		// The replica's drain grace expired while q was in service; q was counted
		// as dropped then.
		s.freeRequest(q)
		return
	}
	rep.busy--
	s.busyAll--
	if rep.state == stateReady {
		s.busyReady--
	}
	s.inflight--
	if timedOut {
		s.drop(1, 504)
	} else {
		s.complete(s.now - req.arrival)
	}
	s.freeRequest(q)
	// Take the next waiting request that has not yet outlived its timeout.
	for rep.qlen > 0 {
		n := rep.qhead
		rep.qhead = s.reqs[n].next
		rep.qlen--
		s.queued--
		if s.now-s.reqs[n].arrival > s.timeout {
			s.inflight--
			s.drop(1, 504)
			s.freeRequest(n)
			continue
		}
		s.start(r, n)
		break
	}
	if rep.state == stateDraining && rep.busy == 0 && rep.qlen == 0 {
		s.gone(r)
	}
}

func (s *Sim) complete(ns int64) {
	s.tot.Completed++
	s.win.completed++
	sec := float64(ns) * 1e-9
	s.tot.ResponseSeconds += sec
	s.durSum += sec
	if ns > s.sloNs {
		s.win.violations++
	}
	for i, le := range DefBuckets {
		if sec <= le {
			s.durBuckets[i]++
			break
		}
	}
	s.winHist.Observe(sec)
	s.runHist.Observe(sec)
}

// pick returns the Ready replica the balancer sends the next request to, or -1.
func (s *Sim) pick() int32 {
	n := len(s.ready)
	if n == 0 {
		return -1
	}
	switch s.balancer {
	case 1: // round-robin over the Ready replicas in index order
		i := s.rrNext % n
		s.rrNext = i + 1
		return s.ready[i]
	case 2:
		return s.ready[s.lbRng.IntN(n)]
	}
	best := s.ready[0]
	bo := s.reps[best].busy + s.reps[best].qlen
	for _, r := range s.ready[1:] {
		if o := s.reps[r].busy + s.reps[r].qlen; o < bo {
			best, bo = r, o
		}
	}
	return best
}

// newReplica requests a replica in the lowest free slot; it starts Provisioning.
func (s *Sim) newReplica() int32 {
	idx := int32(-1)
	for i := range s.reps {
		if s.reps[i].state == stateGone {
			idx = int32(i)
			break
		}
	}
	if idx < 0 {
		s.reps = append(s.reps, replica{})
		idx = int32(len(s.reps) - 1)
	}
	rep := &s.reps[idx]
	*rep = replica{state: stateProvisioning, gen: rep.gen, requestedAt: s.now, firstServe: -1, qhead: -1, qtail: -1}
	s.existing++
	s.nProv++
	return idx
}

func (s *Sim) becomeReady(r int32) {
	rep := &s.reps[r]
	rep.state = stateReady
	rep.readyAt = s.now
	s.nProv--
	s.nReady++
	s.slotsReady += int64(s.conc)
	s.busyReady += int64(rep.busy)
	i := len(s.ready)
	s.ready = append(s.ready, r)
	for i > 0 && s.ready[i-1] > r {
		s.ready[i] = s.ready[i-1]
		i--
	}
	s.ready[i] = r
}

func (s *Sim) gone(r int32) {
	rep := &s.reps[r]
	switch rep.state {
	case stateProvisioning:
		s.nProv--
	case stateDraining:
		s.nDrain--
	}
	rep.state = stateGone
	rep.gen++
	s.existing--
}

// scale moves the count of Provisioning plus Ready replicas to desired. Surplus
// replicas are chosen deterministically: Provisioning ones first, latest requested
// first (they are cancelled and go Gone at once), then Ready ones with the fewest
// outstanding requests, highest index first on ties (they start Draining).
func (s *Sim) scale(desired int) {
	n := s.nProv + s.nReady
	for ; n < desired; n++ {
		r := s.newReplica()
		delay := s.startup.sampleNs(s.upRng)
		s.reps[r].readyAt = s.now + delay
		s.schedule(s.now+delay, evReady, r, s.reps[r].gen)
	}
	for ; n > desired && s.nProv > 0; n-- {
		best := int32(-1)
		for i := range s.reps {
			if s.reps[i].state != stateProvisioning {
				continue
			}
			if best < 0 || s.reps[i].requestedAt >= s.reps[best].requestedAt {
				best = int32(i)
			}
		}
		s.gone(best)
	}
	for ; n > desired; n-- {
		best := int32(-1)
		var bo int32
		for _, r := range s.ready {
			if o := s.reps[r].busy + s.reps[r].qlen; best < 0 || o <= bo {
				best, bo = r, o
			}
		}
		s.drain(best)
	}
}

func (s *Sim) drain(r int32) {
	rep := &s.reps[r]
	for i, x := range s.ready {
		if x == r {
			s.ready = append(s.ready[:i], s.ready[i+1:]...)
			break
		}
	}
	s.nReady--
	s.slotsReady -= int64(s.conc)
	s.busyReady -= int64(rep.busy)
	rep.state = stateDraining
	s.nDrain++
	if rep.busy == 0 && rep.qlen == 0 {
		s.gone(r)
		return
	}
	s.schedule(s.now+s.grace, evDrainEnd, r, rep.gen)
}

// expireDrain drops whatever a Draining replica still holds when its grace period
// ends (503) and makes it Gone. Requests in service are freed when their own events
// come up, recognised by the replica's new generation.
func (s *Sim) expireDrain(r int32) {
	rep := &s.reps[r]
	waiting := int64(rep.qlen)
	for q := rep.qhead; rep.qlen > 0; rep.qlen-- {
		n := s.reqs[q].next
		s.freeRequest(q)
		q = n
	}
	rep.qhead, rep.qtail = -1, -1
	s.queued -= waiting
	serving := int64(rep.busy)
	s.busyAll -= serving
	rep.busy = 0
	s.inflight -= waiting + serving
	s.drop(waiting+serving, 503)
	s.gone(r)
}
