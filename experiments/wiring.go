package experiments

import (
	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/experiments/train"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// DefaultBackend wires the simulator, the rule policies of package agents, the trace
// loaders and the learners of learned.go.
func DefaultBackend() Backend {
	return Backend{
		LoadTrace: loadTrace,
		NewRule: func(kind string, params *yaml.Node, ec EvalContext) (sim.Autoscaler, error) {
			return agents.New(kind, params, agents.Context{Sim: ec.Sim, Trace: ec.Trace, Start: ec.Start})
		},
		Simulate: simulate,
		Learners: defaultLearners(),
	}
}

// simulate runs the simulator and keeps its timeline, summary and latency CDF.
func simulate(cfg sim.Config, tr *traces.Trace, a sim.Autoscaler) (Outcome, error) {
	res, err := sim.Run(cfg, tr, a)
	if err != nil {
		return Outcome{}, err
	}
	o := Outcome{Summary: res.Summary, Timeline: res.Timeline}
	if res.Latency != nil {
		xs, ps := res.Latency.CDF()
		for i := range xs {
			o.LatencyCDF = append(o.LatencyCDF, CDFPoint{Seconds: xs[i], Fraction: ps[i]})
		}
	}
	return o, nil
}

// loadTrace builds the whole trace spec names (train.SourceTrace: loaded or
// synthesized, resampled, cropped and rescaled), named after the spec. A file
// without timestamps cropped with start: starts at midnight plus the crop, so that
// every window's time of day, evaluated, trained on and validated on alike, counts
// from the start of the file, as sim --start's does, and not from the crop.
func loadTrace(spec TraceSpec) (*traces.Trace, error) {
	tr, err := train.SourceTrace(spec.Source)
	if err != nil {
		return nil, err
	}
	tr.Name = spec.Name
	return tr, nil
}
