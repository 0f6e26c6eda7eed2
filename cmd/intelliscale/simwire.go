package main

import (
	"context"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/experiments/train"

	"github.com/intelliscale/intelliscale/internal/atomicfile"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// runWithRecording runs the simulation, keeping every scrape when record is set.
func runWithRecording(cfg sim.Config, tr *traces.Trace, a sim.Autoscaler, record bool) (*sim.Result, []sim.Scrape, error) {
	if !record {
		res, err := sim.Run(cfg, tr, a)
		return res, nil, err
	}
	var keep scrapeLog
	res, err := sim.RunRecorded(cfg, tr, a, &keep)
	return res, keep, err
}

// scrapeLog keeps a copy of every scrape.
type scrapeLog []sim.Scrape

func (l *scrapeLog) Record(s *sim.Scrape) { *l = append(*l, *s) }

// writeOpenMetricsFile writes the scrapes as OpenMetrics text, timestamped from the
// trace's epoch (its start, or midnight), atomically; when ctx is done midway the
// file is left as it was.
func writeOpenMetricsFile(ctx context.Context, path string, scrapes []sim.Scrape, tr *traces.Trace) error {
	return atomicfile.WriteContext(ctx, path, func(w io.Writer) error {
		if err := features.WriteOpenMetrics(w, scrapes, env.TraceEpoch(tr)); err != nil {
			return fmt.Errorf("--openmetrics: %w", err)
		}
		return nil
	})
}

// learnedAutoscaler loads an exported policy, applies its deploy-time params
// (policy.Deploy; nil: none), and runs it as an autoscaler that computes its
// features from the run's scrapes exactly as in training.
func learnedAutoscaler(path string, params *yaml.Node, cfg sim.Config, tr *traces.Trace) (sim.Autoscaler, error) {
	p, err := policy.Load(path)
	if err != nil {
		return nil, err
	}
	if err := applyDeploy(p, params); err != nil {
		return nil, err
	}
	a, err := train.Autoscaler(p, cfg, train.Epoch(tr, 0))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// applyDeploy applies deploy-time params given with --params to a policy file's
// policy; errors name the flag.
func applyDeploy(p *policy.Policy, params *yaml.Node) error {
	if err := policy.ApplyParams(p, params); err != nil {
		return fmt.Errorf("--params: %w", err)
	}
	return nil
}
