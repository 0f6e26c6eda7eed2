package main

import (
	"bytes"
	"fmt"

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
// trace's epoch (its start, or midnight), atomically.
func writeOpenMetricsFile(path string, scrapes []sim.Scrape, tr *traces.Trace) error {
	var buf bytes.Buffer
	if err := features.WriteOpenMetrics(&buf, scrapes, env.TraceEpoch(tr)); err != nil {
		return fmt.Errorf("--openmetrics: %w", err)
	}
	return atomicfile.Write(path, buf.Bytes())
}

// learnedAutoscaler loads an exported policy as an autoscaler that computes its
// features from the run's scrapes exactly as in training.
func learnedAutoscaler(path string, cfg sim.Config, tr *traces.Trace) (sim.Autoscaler, error) {
	return train.LoadAutoscaler(path, cfg, train.Epoch(tr, 0))
}
