package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

// simSpeed is the simulator's speed in simulated requests per second of wall time on
// one core, as `go test ./sim -run '^$' -bench 'BenchmarkSimulate$|BenchmarkRunTwoDays'`
// measures it (1.97e6 and 2.10e6 requests/s on an AMD EPYC core, 5.5e6 to 6.7e6 on an
// Intel Xeon core at 2.8 GHz, where `sim` under HPA ran 1.04e8 requests in 21 s);
// estimates take 4e6, within a factor of two of both; the progress lines of a long run
// give the time left as measured.
const simSpeed = 4e6

// maxSimRequests is the most simulated requests `sim` runs without --force: about
// 50 s at simSpeed. A variable so that tests can lower it.
var maxSimRequests = 2e8

// simProgressAbove: a run of more simulated requests (about 5 s) prints its estimate
// and, every simProgressEvery, how far it is, on standard error.
const (
	simProgressAbove = 1e7
	simProgressEvery = 5 * time.Second
)

// simWork is what one simulation will cost.
type simWork struct {
	requests float64       // simulated requests: the integral of the trace's rate
	span     time.Duration // virtual time simulated
}

// estimateWork returns the work of simulating tr: its exact arrivals when it has
// them, else the integral of its rate over its buckets.
func estimateWork(tr *traces.Trace) simWork {
	w := simWork{span: tr.Duration()}
	if tr.Arrivals != nil {
		w.requests = float64(len(tr.Arrivals))
		return w
	}
	for _, r := range tr.Rates {
		w.requests += r * tr.Bucket.Seconds()
	}
	return w
}

// wall is the estimated wall time at simSpeed.
func (w simWork) wall() time.Duration {
	s := w.requests / simSpeed
	if s > 1e9 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second)).Round(time.Second)
}

func (w simWork) String() string {
	wall := "more than 30 years"
	if d := w.wall(); d < 30*365*24*time.Hour {
		wall = "about " + d.String()
	}
	return fmt.Sprintf("about %.3g simulated requests over %s of trace (%s at the simulator's %.3g requests/s)",
		w.requests, w.span, wall, simSpeed)
}

// check refuses work beyond maxSimRequests unless force, and a trace whose
// requests cannot be counted at all.
func (w simWork) check(traceName string, force bool) error {
	switch {
	case math.IsNaN(w.requests) || math.IsInf(w.requests, 0):
		return fmt.Errorf("trace %s: %v simulated requests: the rates are too large to simulate", traceName, w.requests)
	case w.requests > maxSimRequests && !force:
		return fmt.Errorf("trace %s: %s, more than the limit of %.3g: shorten the window (--length), lower the rate (--scale-mean), or pass --force",
			traceName, w, maxSimRequests)
	}
	return nil
}

// simProgress prints how far a long simulation is, at most every simProgressEvery
// of wall time (clock is time.Now outside tests), and once at the end.
type simProgress struct {
	w           io.Writer
	clock       func() time.Time
	every       time.Duration
	start, last time.Time
	printed     bool
}

func newSimProgress(w io.Writer, clock func() time.Time) *simProgress {
	t := clock()
	return &simProgress{w: w, clock: clock, every: simProgressEvery, start: t, last: t}
}

// update is sim.Config.Progress.
func (p *simProgress) update(now, end time.Duration) {
	t := p.clock()
	if now < end && t.Sub(p.last) < p.every || end <= 0 {
		return
	}
	if now >= end && !p.printed {
		return // a run that ended before the first report needs no last one
	}
	p.last, p.printed = t, true
	frac := float64(now) / float64(end)
	elapsed := t.Sub(p.start)
	left := time.Duration(float64(elapsed) * (1 - frac) / frac)
	fmt.Fprintf(p.w, "sim: %3.0f%% (%s of %s simulated), %s elapsed, about %s left\n",
		100*frac, now, end, elapsed.Round(time.Second), left.Round(time.Second))
}
