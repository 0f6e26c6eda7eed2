package traces

import (
	"errors"
	"fmt"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// Traffic is a set of whole traces to train on: the traces of a randomised synthetic
// distribution, then any sources listed. At least one of the two is set.
//
//	random: {count: 8, seed: 11}      # a SynthDistribution
//	traces:                           # Sources, each used whole
//	  - builtin: bursty
type Traffic struct {
	// Random is a distribution of synthetic traffic (SynthDistribution).
	Random *SynthDistribution `yaml:"random,omitempty"`
	// Traces are further sources, each used whole.
	Traces []Source `yaml:"traces,omitempty"`
}

// Validate fills defaults and rejects empty traffic and bad sources, as
// *yamldoc.FieldError with paths relative to the traffic ("random.count",
// "traces[1].synth.bucket"). It does not read files.
func (t *Traffic) Validate() error {
	if t.Random == nil && len(t.Traces) == 0 {
		return yamldoc.Errorf("", "empty: set random (a synthetic distribution) or traces, or both")
	}
	var errs []error
	if t.Random != nil {
		errs = append(errs, yamldoc.Within("random", t.Random.Validate()))
	}
	for i := range t.Traces {
		errs = append(errs, yamldoc.Within(fmt.Sprintf("traces[%d]", i), t.Traces[i].Validate()))
	}
	return errors.Join(errs...)
}

// Sources lists the traffic's sources: the distribution's draws, then Traces. Paths
// name the field each came from ("random", "traces[1]"), for errors in loading it.
func (t Traffic) Sources() (srcs []Source, paths []string, err error) {
	if err := t.Validate(); err != nil {
		return nil, nil, err
	}
	if t.Random != nil {
		drawn, err := t.Random.Sources()
		if err != nil {
			return nil, nil, yamldoc.Within("random", err)
		}
		for range drawn {
			paths = append(paths, "random")
		}
		srcs = append(srcs, drawn...)
	}
	for i, s := range t.Traces {
		srcs = append(srcs, s)
		paths = append(paths, fmt.Sprintf("traces[%d]", i))
	}
	return srcs, paths, nil
}
