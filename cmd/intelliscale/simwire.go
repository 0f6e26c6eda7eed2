package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents"
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

// writeOpenMetricsFile writes the scrapes as OpenMetrics text, timestamped from
// epoch, the wall-clock time of the run's start (simEpoch), atomically; when ctx is done midway the
// file is left as it was. The service's queue bound and timeout (cfg's) are written
// beside the scrapes, as the live app exports them.
func writeOpenMetricsFile(ctx context.Context, path string, scrapes []sim.Scrape, epoch time.Time, cfg *sim.Config) error {
	return atomicfile.WriteContext(ctx, path, func(w io.Writer) error {
		if err := features.WriteOpenMetrics(w, scrapes, epoch, features.ServiceGauges(cfg)...); err != nil {
			return fmt.Errorf("--openmetrics: %w", err)
		}
		return nil
	})
}

// learnedAutoscaler loads an exported policy, applies its deploy-time params
// (policy.Deploy; nil: none), and runs it as an autoscaler that computes its
// features from the run's scrapes exactly as in training, epoch the wall-clock
// time of the run's start (simEpoch). It returns with it the
// warnings of running the policy on cfg (validated): every setting of the service
// that differs from the one it was trained on, and min_replicas 0 for a policy
// that cannot scale up from zero replicas.
func learnedAutoscaler(path string, params *yaml.Node, cfg sim.Config, epoch time.Time) (*learnedRun, []string, error) {
	p, err := policy.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if err := applyDeploy(p, params); err != nil {
		return nil, nil, err
	}
	a, err := train.Autoscaler(p, cfg, epoch)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var warnings []string
	for _, d := range p.Sim.Differences(cfg) {
		warnings = append(warnings, path+" "+d.String())
	}
	if cfg.Min() == 0 && !p.ScalesFromZero() {
		warnings = append(warnings, agents.NoScaleFromZero(fmt.Sprintf("%s (action mode %s)", path, p.ActionMode)))
	}
	return &learnedRun{PolicyAutoscaler: a, p: p, path: path, interval: cfg.ControlInterval}, warnings, nil
}

// learnedRun is a policy file's autoscaler that remembers the first decision its
// network could not take, its scores not all finite (policy.Policy.NonFinite):
// the count then holds, and the run should stop there (fault) rather than go on
// as if the policy had decided.
type learnedRun struct {
	*env.PolicyAutoscaler
	p        *policy.Policy
	path     string
	interval time.Duration
	err      error
}

// Decide implements sim.Autoscaler.
func (l *learnedRun) Decide(o sim.Observation) int {
	n := l.p.NonFinite()
	d := l.PolicyAutoscaler.Decide(o)
	if l.err == nil && l.p.NonFinite() > n {
		l.err = fmt.Errorf("%s: the network's scores are not all finite at the decision %v into the run (the end of control interval %d): its parameters overflow on that observation, and it cannot decide",
			l.path, o.Time, int(o.Time/l.interval))
	}
	return d
}

// fault is the error of the first decision the network could not take; nil while
// there is none.
func (l *learnedRun) fault() error { return l.err }

// applyDeploy applies deploy-time params given with --params to a policy file's
// policy; errors name the flag.
func applyDeploy(p *policy.Policy, params *yaml.Node) error {
	if err := policy.ApplyParams(p, params); err != nil {
		return fmt.Errorf("--params: %w", err)
	}
	return nil
}

// simEpoch is the wall-clock time of the start of a run of tr, the trace the flags
// f read and shaped: tr's start when it has one, else midnight plus where the
// crop began (traces.Flags.CropOffset), so that a policy's time-of-day features on
// a window of a file without timestamps are those of an experiment's window at
// that offset, and --start 19h on such a file starts at 19:00.
func simEpoch(f *traces.Flags, tr *traces.Trace) time.Time {
	return train.Epoch(tr, f.CropOffset(tr))
}
