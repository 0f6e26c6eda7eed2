package experiments

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// progress shows cells done and an estimate of the time left: a redrawn bar on a
// terminal, one plain line per cell otherwise. Wall-clock time is used only here,
// for display; no result depends on it.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	total int
	n     int
	start time.Time
	est   *estimator
	// running are the cells started and not yet done; last is when a line was
	// last shown, for the heartbeat of a long quiet stretch.
	running map[string]bool
	last    time.Time
}

// quietFor is how long a run may go without a line before the heartbeat names the
// cells still running (a tuning or training cell takes minutes).
const quietFor = 30 * time.Second

func newProgress(w io.Writer, cells []Cell, work func(Cell) float64) *progress {
	now := time.Now()
	p := &progress{w: w, total: len(cells), start: now, est: newEstimator(cells, work), running: map[string]bool{}, last: now}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) done(c Cell) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, c.Dir())
	p.last = time.Now()
	el := p.last.Sub(p.start)
	p.n++
	eta := "?"
	if left, ok := p.est.done(c, el); ok {
		eta = left.Round(time.Second).String()
	}
	if p.tty {
		const width = 30
		k := width * p.n / max(p.total, 1)
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d cells  elapsed %v  left ~%s   ", strings.Repeat("=", k), strings.Repeat(" ", width-k), p.n, p.total, el.Round(time.Second), eta)
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] %s (elapsed %v, left ~%s)\n", p.n, p.total, c.Dir(), el.Round(time.Second), eta)
}

// started records that c began, for the heartbeat.
func (p *progress) started(c Cell) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[c.Dir()] = true
}

// beat shows, when no line has been shown for quietFor before now, which cells are
// running and for how long the run has: so that minutes spent in one training cell
// do not look like a hung run.
func (p *progress) beat(now time.Time) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.running) == 0 || now.Sub(p.last) < quietFor {
		return
	}
	p.last = now
	names := slices.Sorted(maps.Keys(p.running))
	el := now.Sub(p.start).Round(time.Second)
	if p.tty {
		fmt.Fprintf(p.w, "\r%d/%d cells  elapsed %v  running %s   ", p.n, p.total, el, strings.Join(names, ", "))
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] running %s (elapsed %v)\n", p.n, p.total, strings.Join(names, ", "), el)
}

// heartbeat calls beat every few seconds until the returned stop is called.
func (p *progress) heartbeat() (stop func()) {
	if p == nil || p.w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(quietFor / 6)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				p.beat(now)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (p *progress) finish() {
	if p == nil || p.w == nil || !p.tty || p.n == 0 {
		return
	}
	fmt.Fprintln(p.w)
}

// estimator predicts the time left from the work of the cells still to run. Every
// cell has an expected amount of work in request-equivalents (cellWork: simulated
// requests, and training steps at their cost in requests), and each kind of cell
// (tune, train, eval) its own pace, the wall time spent per unit of work: the time
// between completions is charged to the kind of the cell that completed. A kind with
// nothing done yet takes the overall pace. So a long training cell and a short
// evaluation cell no longer count the same, which is what made the old cell-count
// estimate open hours off.
type estimator struct {
	work     map[string]float64 // by cell directory
	left     map[string]float64 // work left by phase
	doneWork map[string]float64
	spent    map[string]time.Duration
	last     time.Duration
	total    float64
	finished float64
}

func newEstimator(cells []Cell, work func(Cell) float64) *estimator {
	e := &estimator{work: map[string]float64{}, left: map[string]float64{}, doneWork: map[string]float64{}, spent: map[string]time.Duration{}}
	for _, c := range cells {
		w := 1.0
		if work != nil {
			w = max(work(c), 1)
		}
		e.work[c.Dir()] = w
		e.left[c.Phase] += w
		e.total += w
	}
	return e
}

// done records that c finished at elapsed and returns the estimated time left; ok is
// false while nothing has been done.
func (e *estimator) done(c Cell, elapsed time.Duration) (left time.Duration, ok bool) {
	w := e.work[c.Dir()]
	e.spent[c.Phase] += elapsed - e.last
	e.last = elapsed
	e.doneWork[c.Phase] += w
	e.left[c.Phase] -= w
	e.finished += w
	if e.finished <= 0 {
		return 0, false
	}
	overall := float64(elapsed) / e.finished
	var eta float64
	for phase, l := range e.left {
		if l <= 0 {
			continue
		}
		pace := overall
		if d := e.doneWork[phase]; d > 0 {
			pace = float64(e.spent[phase]) / d
		}
		eta += pace * l
	}
	return time.Duration(eta), true
}

// Fraction is the share of the expected work done.
func (e *estimator) fraction() float64 { return e.finished / max(e.total, 1) }

// trainStepRequests is the cost of one training step in request-equivalents on top
// of the traffic it simulates: the network's forward and backward passes and the
// features, about 0.1 ms on the development machine, the time of a few hundred
// simulated requests.
const trainStepRequests = 300

// cellWork is a cell's expected work in request-equivalents: the requests its
// simulations replay (an evaluation window; a tuning grid over every seed on the
// training window), or for training, its steps, each the control interval's
// requests at the training windows' mean rate plus trainStepRequests.
func (x *run) cellWork(c Cell) float64 {
	requests := func(trace, split string) float64 {
		lt := x.traces[trace]
		if lt == nil {
			return 0
		}
		b := lt.bounds[split]
		sum := 0.0
		for i := b.From; i < b.To && i < len(lt.full.Rates); i++ {
			sum += lt.full.Rates[i]
		}
		return sum * lt.full.Bucket.Seconds()
	}
	switch c.Phase {
	case PhaseEval:
		return requests(c.Trace, c.Split)
	case PhaseTune:
		p := x.policies[c.Policy]
		return float64(len(p.Tune.Grid)*len(x.cfg.Seeds)) * requests(c.Trace, SplitTrain)
	case PhaseTrain:
		p := x.policies[c.Policy]
		var req, sec float64
		for _, spec := range x.cfg.Traces {
			lt := x.traces[spec.Name]
			req += requests(spec.Name, SplitTrain)
			b := lt.bounds[SplitTrain]
			sec += float64(b.To-b.From) * lt.full.Bucket.Seconds()
		}
		interval := x.cfg.Sim.ControlInterval
		if interval <= 0 {
			interval = 15 * time.Second
		}
		perStep := trainStepRequests + req/max(sec, 1)*interval.Seconds()
		work := float64(p.Train.Steps) * perStep
		if n := selectionCandidates(p); n > 0 && p.ZeroShotOf == "" {
			for _, spec := range x.cfg.Traces {
				work += float64(n) * requests(spec.Name, SplitValidation)
			}
		}
		return work
	}
	return 1
}
