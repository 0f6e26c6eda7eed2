package train

import (
	"fmt"
	"math"
	"time"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// Epoch is the wall-clock time of sim time zero when simulating tr from offset
// start, as the environment computes it: tr.Start+start when the trace has a
// start, else midnight 2024-01-01 UTC plus start.
func Epoch(tr *traces.Trace, start time.Duration) time.Time {
	if tr == nil {
		tr = &traces.Trace{}
	}
	return env.TraceEpoch(tr).Add(start)
}

// SourceTrace is the trace s builds (traces.Source.Trace) on the wall clock of
// what it was read from: a trace without timestamps cropped at an offset
// (traces.Source.CropOffset) starts at Epoch(tr, offset), midnight plus the
// offset, as sim --start counts it, so that the time of day of its windows runs
// on from the start of the file instead of starting again at midnight. A crop of
// whole days keeps midnight's time of day, the only one the features read, and
// leaves the trace without a start, so that its runs, and the training
// configuration's hash (which covers a trace's start), stay as they were.
func SourceTrace(s traces.Source) (*traces.Trace, error) {
	tr, err := s.Trace()
	if err != nil {
		return nil, err
	}
	if off := s.CropOffset(tr); off%(24*time.Hour) != 0 {
		tr.Start = Epoch(tr, off)
	}
	return tr, nil
}

// Autoscaler runs an exported policy in the simulator with the features, actions
// and normalisation of training. The result is a sim.Autoscaler and a sim.Recorder:
// the simulator must hand it every scrape ((*sim.Sim).SetRecorder), since the
// features are computed from them. epoch is the wall-clock time of sim time zero
// (see Epoch). simCfg must run at the control and scrape intervals the policy was
// trained at.
func Autoscaler(p *policy.Policy, simCfg sim.Config, epoch time.Time) (*env.PolicyAutoscaler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	sc := simCfg
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if !near(sc.ControlInterval.Seconds(), p.Sim.ControlIntervalSeconds) {
		return nil, fmt.Errorf("policy trained at a control interval of %gs, simulator runs %v", p.Sim.ControlIntervalSeconds, sc.ControlInterval)
	}
	if !near(sc.ScrapeInterval.Seconds(), p.Sim.ScrapeIntervalSeconds) {
		return nil, fmt.Errorf("policy trained at a scrape interval of %gs, simulator runs %v", p.Sim.ScrapeIntervalSeconds, sc.ScrapeInterval)
	}
	act, err := p.Actuator()
	if err != nil {
		return nil, err
	}
	return env.NewPolicyAutoscaler(p.Features, epoch, act, p.Act)
}

// Simulate runs tr from its start under the policy, installing the autoscaler as
// the simulator's recorder, the way sim.Run drives an autoscaler: decide at time
// zero, then after every control interval. It returns the decisions (desired
// counts) in order.
func Simulate(p *policy.Policy, simCfg sim.Config, tr *traces.Trace) ([]int, error) {
	a, err := Autoscaler(p, simCfg, Epoch(tr, 0))
	if err != nil {
		return nil, err
	}
	s, err := sim.New(simCfg, tr)
	if err != nil {
		return nil, err
	}
	s.SetRecorder(a)
	var out []int
	o := s.Observe()
	for {
		d := a.Decide(o)
		out = append(out, d)
		var done bool
		if o, done = s.Step(d); done {
			return out, nil
		}
	}
}

// LoadAutoscaler loads the policy file at path (policy.Load) and returns its
// simulator adapter (Autoscaler); sim.Run installs it as the recorder itself.
func LoadAutoscaler(path string, simCfg sim.Config, epoch time.Time) (*env.PolicyAutoscaler, error) {
	p, err := policy.Load(path)
	if err != nil {
		return nil, err
	}
	a, err := Autoscaler(p, simCfg, epoch)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}
