package sim

import (
	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/traces"
)

// Result is the outcome of one run.
type Result struct {
	// Config is the configuration in force, defaults filled.
	Config Config
	// Timeline holds one row per control interval.
	Timeline []Row
	// Summary holds the elasticity and SLO figures of the run, with P50/P95/P99 taken
	// from Latency.
	Summary elasticity.Summary
	// Latency is the histogram of every completed request's response time.
	Latency *LatencyHistogram
	// Totals are the run's cumulative counts at its end.
	Totals Totals
}

// Run simulates tr under a from start to end. The autoscaler is first asked at time
// zero with the initial observation (empty window, InitialReplicas Ready), then at
// the end of every control interval; each row's Desired is the decision taken at its
// end (the last row's, which no decision follows, is the count in force).
//
// When cfg.Interrupt stops the run, Run returns ErrInterrupted and no result.
//
// An autoscaler that also implements Recorder (a learned policy computing its
// features from the scraped series, say) is handed every scrape before each decision.
func Run(cfg Config, tr *traces.Trace, a Autoscaler) (*Result, error) {
	return RunRecorded(cfg, tr, a, nil)
}

// RunRecorded is Run with rec (if not nil) also handed every scrape, after the
// autoscaler's own recording if it has one.
func RunRecorded(cfg Config, tr *traces.Trace, a Autoscaler, rec Recorder) (*Result, error) {
	s, err := New(cfg, tr)
	if err != nil {
		return nil, err
	}
	ar, _ := a.(Recorder)
	switch {
	case ar != nil && rec != nil:
		s.SetRecorder(recorders{ar, rec})
	case ar != nil:
		s.SetRecorder(ar)
	case rec != nil:
		s.SetRecorder(rec)
	}
	steps := int((s.endT + s.ctrl - 1) / s.ctrl)
	// Preallocate for the usual run; a tiny control interval over a long trace must
	// not reserve memory for steps it may never reach (an interrupt stops it first).
	rows := make([]Row, 0, min(steps, 1<<20))
	obs := s.Observe()
	for {
		d := a.Decide(obs)
		if n := len(rows); n > 0 {
			rows[n-1].Desired = min(max(d, s.cfg.Min()), s.cfg.MaxReplicas)
		}
		var done bool
		obs, done = s.Step(d)
		if err := s.Err(); err != nil {
			return nil, err
		}
		rows = append(rows, s.LastRow())
		if done {
			break
		}
	}
	tot := s.Totals()
	ser := elasticity.Series{
		Interval: s.cfg.ControlInterval.Seconds(),
		Demand:   make([]int, len(rows)),
		Supply:   make([]int, len(rows)),
		Desired:  make([]int, len(rows)),
		Requests: tot.Arrived,
		Dropped:  tot.Dropped,
		Cost:     tot.Cost,
	}
	if n := len(rows); n > 0 {
		// The last interval is shorter when the trace does not end at a control
		// interval's end.
		w := rows[n-1].Time
		if n > 1 {
			w -= rows[n-2].Time
		}
		ser.Last = min(w, s.cfg.ControlInterval).Seconds()
	}
	for i, r := range rows {
		ser.Demand[i], ser.Supply[i], ser.Desired[i] = r.Demand, r.Supply, r.Desired
		ser.Violations += int64(r.SLOViolations)
	}
	sum := elasticity.Compute(ser)
	var q [3]float64
	s.runHist.quantiles([]float64{0.5, 0.95, 0.99}, q[:])
	sum.P50, sum.P95, sum.P99 = q[0], q[1], q[2]
	lat := s.runHist
	return &Result{Config: s.cfg, Timeline: rows, Summary: sum, Latency: &lat, Totals: tot}, nil
}

// recorders hands each scrape to every recorder in order.
type recorders []Recorder

func (rs recorders) Record(sc *Scrape) {
	for _, r := range rs {
		r.Record(sc)
	}
}
