package experiments

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// DefaultBackend wires the simulator, the rule policies of package agents, the trace
// loaders and the learners of learned.go.
func DefaultBackend() Backend {
	return Backend{
		LoadTrace: LoadTrace,
		NewRule: func(kind string, params *yaml.Node, ec EvalContext) (sim.Autoscaler, error) {
			return agents.New(kind, params, agents.Context{Sim: ec.Sim, Trace: ec.Trace, Start: ec.Start})
		},
		Simulate: Simulate,
		Learners: defaultLearners(),
	}
}

// Simulate runs the simulator and keeps its timeline, summary and latency CDF.
func Simulate(cfg sim.Config, tr *traces.Trace, a sim.Autoscaler) (Outcome, error) {
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

// LoadOptions are the options of a file trace (TraceSpec.Load). Every field is
// optional; the loaders' own defaults apply.
type LoadOptions struct {
	// Format: csv, counts or accesslog. Default: from the file name and content.
	Format string `yaml:"format"`
	// TimeColumn, ValueColumn, TimeFormat, Values, Bucket: CSV options (traces.CSVOptions).
	TimeColumn  string        `yaml:"time_column"`
	ValueColumn string        `yaml:"value_column"`
	TimeFormat  string        `yaml:"time_format"`
	Values      string        `yaml:"values"`
	Bucket      time.Duration `yaml:"bucket"`
	// CountsBucket is the bucket of a counts file. Default 1s.
	CountsBucket time.Duration `yaml:"counts_bucket"`
	// MaxMalformed access-log lines skipped (-1: any). Default 0.
	MaxMalformed int `yaml:"max_malformed"`
	// Resample to this bucket length after loading. Default: keep.
	Resample time.Duration `yaml:"resample"`
	// Offset and Duration crop the loaded trace to [Offset, Offset+Duration).
	// Default: all of it.
	Offset   time.Duration `yaml:"offset"`
	Duration time.Duration `yaml:"duration"`
}

// LoadTrace builds the whole trace spec names: a built-in trace (synthesized with
// traces.DefaultSeed), a synthetic spec (seed 1) or a file, then crops and rescales it.
func LoadTrace(spec TraceSpec) (*traces.Trace, error) {
	var (
		tr  *traces.Trace
		err error
	)
	switch {
	case spec.Builtin != "":
		var s traces.SynthSpec
		if s, err = traces.DefaultSpec(spec.Builtin); err != nil {
			return nil, err
		}
		tr, err = traces.Synthesize(s, traces.DefaultSeed)
	case !spec.Synth.IsZero():
		var s traces.SynthSpec
		if err = decodeStrict(&spec.Synth, &s); err != nil {
			return nil, fmt.Errorf("synth: %w", err)
		}
		if s.Name == "" {
			s.Name = spec.Name
		}
		tr, err = traces.Synthesize(s, traces.DefaultSeed)
	default:
		var lo LoadOptions
		if !spec.Load.IsZero() {
			if err = decodeStrict(&spec.Load, &lo); err != nil {
				return nil, fmt.Errorf("load: %w", err)
			}
		}
		opt := traces.LoadOptions{Format: lo.Format, CountsBucket: lo.CountsBucket,
			CSV:       traces.CSVOptions{TimeColumn: lo.TimeColumn, ValueColumn: lo.ValueColumn, TimeFormat: lo.TimeFormat, Values: lo.Values, Bucket: lo.Bucket},
			AccessLog: traces.AccessLogOptions{MaxMalformed: lo.MaxMalformed}}
		if tr, err = traces.LoadFile(spec.File, opt); err != nil {
			return nil, err
		}
		if lo.Resample > 0 {
			if tr, err = traces.Resample(tr, lo.Resample); err != nil {
				return nil, err
			}
		}
		if lo.Offset > 0 || lo.Duration > 0 {
			end := tr.Duration()
			if lo.Duration > 0 {
				end = min(end, lo.Offset+lo.Duration)
			}
			if tr, err = traces.Slice(tr, lo.Offset, end); err != nil {
				return nil, err
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if spec.ScaleMean > 0 {
		tr, err = traces.ScaleMean(tr, spec.ScaleMean)
	} else if spec.ScalePeak > 0 {
		tr, err = traces.ScalePeak(tr, spec.ScalePeak)
	}
	if err != nil {
		return nil, err
	}
	tr.Name = spec.Name
	return tr, nil
}

// decodeStrict decodes a YAML node into out, unknown keys being errors (yaml.Node's
// own Decode is not strict).
func decodeStrict(n *yaml.Node, out any) error {
	if err := yamldoc.DecodeNode(n, out); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}
