// Package sim is a discrete-event simulator of one service behind a load balancer:
// arrivals from a trace, replicas with start-up delay, queues, draining and cost. It is
// a deterministic state machine in virtual time, driven by its caller: the same
// configuration, trace and seed give the same bytes out.
package sim

import (
	"errors"
	"time"

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
	Desired                       int     // decision taken at the end of this interval
	Demand                        int     // elasticity.Demand at the interval's arrival rate
	Cost                          float64 // accrued in this interval
}

// Sim is one simulated service. Create it with New, then call Step once per control
// interval (or use Run).
type Sim struct{}

// New validates cfg (filling defaults into the copy it keeps) and tr, and returns a
// simulator at time zero with cfg.InitialReplicas Ready.
func New(cfg Config, tr *traces.Trace) (*Sim, error) { return nil, errors.New("unimplemented") }

// SetRecorder makes the simulator hand every scrape to r (nil to stop).
func (s *Sim) SetRecorder(r Recorder) {}

// Config returns the configuration in force, defaults filled.
func (s *Sim) Config() Config { return Config{} }

// Step applies desired (clamped to [MinReplicas, MaxReplicas]) and advances virtual
// time by one control interval. It returns the observation at the end of that interval
// and done=true once the trace is exhausted (the last, possibly partial, interval).
func (s *Sim) Step(desired int) (obs Observation, done bool) { return Observation{}, true }
