package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/internal/atomicfile"
	"github.com/intelliscale/intelliscale/internal/outpath"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

func init() {
	register(command{
		name:    "sim",
		summary: "simulate one trace under one policy; print the summary, write the timeline",
		run:     runSim,
	})
}

// simFlags are the flags of `intelliscale sim`; the trace's are traces.BindFlags'.
type simFlags struct {
	config, policy, params, policyFile string
	timeline, openmetrics              string
	seed                               uint64
	force                              bool
	trace                              *traces.Flags
}

func runSim(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sim", "(--trace FILE | --builtin NAME | --synth SPEC.yaml) [--policy NAME | --policy-file FILE] [flags]", stderr)
	var f simFlags
	f.trace = traces.BindFlags(fs, traces.FlagAll)
	f.trace.Notes = func(note string) { fmt.Fprintf(stderr, "sim: %s\n", note) }
	alias(fs, "from", "start")
	fs.StringVar(&f.config, "config", "", "simulator settings, YAML (sim.Config fields; unset fields take their defaults)")
	fs.StringVar(&f.policy, "policy", "hpa", "rule-based policy: "+strings.Join(agents.Names(), ", "))
	fs.StringVar(&f.params, "params", "", "policy parameters as inline YAML, e.g. 'target_utilization: 0.7'; with --policy-file, its deploy-time parameters, e.g. 'headroom_scale: 0.8'")
	fs.StringVar(&f.policyFile, "policy-file", "", "exported learned policy, instead of --policy")
	fs.StringVar(&f.timeline, "timeline", "", "where to write the timeline CSV (- for stdout, empty for none; default timeline-TRACE-POLICY.csv, or -2, -3, ... added to it rather than replace a file)")
	fs.StringVar(&f.openmetrics, "openmetrics", "", "also write the run's metric series as OpenMetrics text to this file")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed of the run (overrides the config's)")
	fs.BoolVar(&f.force, "force", false, fmt.Sprintf("run even when the estimate exceeds %.3g simulated requests (about %v at %.3g requests/s)", maxSimRequests, time.Duration(maxSimRequests/simSpeed)*time.Second, simSpeed))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	// The file is a policy of its own: a --policy given beside it would be ignored
	// (an empty value counts as not given, as for the live controller).
	if f.policyFile != "" && isSet(fs, "policy") && f.policy != "" {
		return fmt.Errorf("--policy %s and --policy-file %s: give one (the file is a policy of its own)", f.policy, f.policyFile)
	}
	var g outpath.Guard
	inputFlags(&g, fs, "trace", "synth", "config", "policy-file")
	if isSet(fs, "timeline") {
		if err := checkOutput(&g, fs, "timeline", f.timeline); err != nil {
			return err
		}
	}
	if err := checkOutput(&g, fs, "openmetrics", f.openmetrics); err != nil {
		return err
	}
	// A Ctrl-C from here on, while a large trace file loads too, stops the run
	// with nothing written.
	ctx, stop := interruptible()
	defer stop()
	tr, err := untilInterrupted(ctx, func() (*traces.Trace, error) { return f.trace.Trace("") })
	if err != nil {
		return err
	}
	work := estimateWork(tr)
	if err := work.check(tr.Name, f.force); err != nil {
		return err
	}
	cfg, err := loadSimConfig(f.config)
	if err != nil {
		return err
	}
	cfg.Seed = f.seed
	initialSet := cfg.InitialReplicas != 0
	if err := cfg.Validate(); err != nil {
		return err
	}
	a, name, warnings, err := simAutoscaler(f, cfg, tr)
	if err != nil {
		return err
	}
	warnings = append(warnings, traceWarnings(tr, work)...)
	if !initialSet {
		warnings = append(warnings, coldStart(cfg, tr)...)
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "sim: warning: %s\n", w)
	}
	if !isSet(fs, "timeline") {
		// The default never replaces a file: it is named for the run, and a
		// second run of the same trace and policy takes the next free name.
		f.timeline, _ = freeName(defaultTimeline(tr.Name, f), nil)
		if err := checkOutput(&g, fs, "timeline", f.timeline); err != nil {
			return err
		}
	}
	// A policy file's network that cannot decide stops the run where it is.
	fault := func() error { return nil }
	if l, ok := a.(*learnedRun); ok {
		fault = l.fault
	}
	cfg.Interrupt = func() bool { return ctx.Err() != nil || fault() != nil }
	if work.requests > simProgressAbove {
		fmt.Fprintf(stderr, "sim: %s\n", work)
		cfg.Progress = newSimProgress(stderr, time.Now).update
	}
	res, rec, err := runWithRecording(cfg, tr, a, f.openmetrics != "")
	if err := fault(); err != nil {
		return fmt.Errorf("%w; the run is stopped, nothing written", err)
	}
	if errors.Is(err, sim.ErrInterrupted) {
		return errors.New("interrupted; nothing written")
	}
	if err != nil {
		return err
	}
	// Writing a long run's outputs takes seconds too: a Ctrl-C stops it, and every
	// file not yet replaced is left as it was.
	var written []string
	interrupted := func(err error) error {
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if len(written) == 0 {
			return errors.New("interrupted; nothing written")
		}
		return fmt.Errorf("interrupted; only %s written", strings.Join(written, " and "))
	}
	if f.openmetrics != "" {
		if err := writeOpenMetricsFile(ctx, f.openmetrics, rec, simEpoch(f.trace, tr), &cfg); err != nil {
			return interrupted(err)
		}
		written = append(written, f.openmetrics)
	}
	if f.timeline == "-" {
		var buf bytes.Buffer
		if err := sim.WriteTimelineCSV(&buf, res.Timeline); err != nil {
			return err
		}
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return err
		}
		warnCapped(stderr, cfg, res) // on stderr: the timeline on stdout stays whole
		printWritten(stderr, "", f.openmetrics, res)
		return nil
	}
	if f.timeline != "" {
		err := atomicfile.WriteContext(ctx, f.timeline, func(w io.Writer) error {
			return sim.WriteTimelineCSV(w, res.Timeline)
		})
		if err != nil {
			return interrupted(err)
		}
	}
	// A window cropped from the trace says where it starts, so that a run of the
	// held-out part is not read as one of the whole trace.
	label := tr.Name
	if from := f.trace.CropStart(tr); from > 0 {
		label += " from " + yamldoc.Duration(from)
	}
	if err := printSummary(stdout, label, name, cfg.Seed, res); err != nil {
		return err
	}
	warnCapped(stderr, cfg, res)
	printWritten(stderr, f.timeline, f.openmetrics, res)
	return nil
}

// warnCapped says on w when max_replicas held the service below its demand: the
// run's figures are then those of a capped service, not of the policy. An SLO no
// replica count can meet is said as such, not blamed on max_replicas.
func warnCapped(w io.Writer, cfg sim.Config, res *sim.Result) {
	if slo := cfg.UnattainableSLO(); slo != "" {
		fmt.Fprintf(w, "sim: warning: %s\n", slo)
		return
	}
	rates := make([]float64, len(res.Timeline))
	for i, r := range res.Timeline {
		rates[i] = r.ArrivalRate
	}
	n, peak := cfg.Capped(rates, sim.CappedLimit)
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "sim: warning: demand exceeds max_replicas %d in %d of %d intervals (%s replicas needed): the figures are those of a service held at %d, and the demand the elasticity figures compare with (theta_U, tau_U, accuracy, under-provisioned time) is capped at %d too, so they understate the shortfall; set a higher max_replicas in a --config file\n",
		cfg.MaxReplicas, n, len(res.Timeline), sim.CappedNeed(peak), cfg.MaxReplicas, cfg.MaxReplicas)
}

// defaultTimeline is sim's timeline file when --timeline is not given:
// timeline-TRACE-POLICY.csv, the policy a rule's name or a policy file's base name.
func defaultTimeline(trace string, f simFlags) string {
	pol := f.policy
	if f.policyFile != "" {
		// ppo.policy.json names its timeline for ppo, as policy.json for policy.
		pol = filepath.Base(f.policyFile)
		if p := strings.TrimSuffix(pol, ".policy.json"); p != pol && p != "" {
			pol = p
		} else {
			pol = strings.TrimSuffix(pol, ".json")
		}
	}
	return "timeline-" + fileSafe(trace) + "-" + fileSafe(pol) + ".csv"
}

// fileSafe is s with every character but letters, digits, '.', '_' and '-' as '_'.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// printWritten says on w which files a run wrote (a timeline file, an OpenMetrics
// file; "" for none), in one line; nothing when it wrote none.
func printWritten(w io.Writer, timeline, openmetrics string, res *sim.Result) {
	var parts []string
	if timeline != "" {
		parts = append(parts, fmt.Sprintf("the timeline to %s (%d intervals of %v)", timeline, len(res.Timeline), res.Config.ControlInterval))
	}
	if openmetrics != "" {
		parts = append(parts, "the OpenMetrics series to "+openmetrics)
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "sim: wrote %s\n", strings.Join(parts, " and "))
	}
}

// loadSimConfig reads a simulator config file; no file means all defaults.
func loadSimConfig(path string) (sim.Config, error) {
	if path == "" {
		return sim.Config{}, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return sim.Config{}, err
	}
	defer fh.Close()
	return sim.DecodeConfig(fh, path)
}

// traceWarnings say when the run's trace tr, of work w, has no request at all, or a
// run of zero buckets long enough to be suspected of being missing data
// (traces.Stats.ZeroRunWarning): the figures are then those of an idle service.
func traceWarnings(tr *traces.Trace, w simWork) []string {
	if w.requests == 0 {
		return []string{fmt.Sprintf("trace %s has no request in all %s simulated: the figures are those of an idle service; missing data or an outage? Pick another window (--start, --length)",
			tr.Name, yamldoc.Duration(tr.Duration()))}
	}
	st, err := traces.Info(tr)
	if err != nil || st.ZeroRunWarning() == "" {
		return nil
	}
	st.Name = "trace " + tr.Name
	return []string{st.ZeroRunWarning() + "; crop around it (--start, --length) if it is missing data"}
}

// coldStart warns when a run left at its default start, min_replicas Ready, opens
// on traffic that needs far more: its first minutes then count against the
// policy, where an experiment's windows start warm (sim.Config.ReadyFor).
func coldStart(cfg sim.Config, tr *traces.Trace) []string {
	if len(tr.Rates) == 0 {
		return nil
	}
	need := cfg.ReadyFor(tr.Rates[0])
	if have := cfg.InitialReplicas; need < 2*have || need-have < 3 {
		return nil
	}
	return []string{fmt.Sprintf("the run starts cold, %d Ready, where the first bucket's %.3g requests/s needs %d: its first minutes count against the policy (experiments start warm); initial_replicas: %d in a --config file starts it warm",
		cfg.InitialReplicas, tr.Rates[0], need, need)}
}

// simAutoscaler builds the policy named by the flags, and returns with it the
// warnings of running it on cfg (validated) and tr: a rule policy's own (agents.Warner), a
// policy file's (learnedAutoscaler), min_replicas 0 for a policy that cannot
// scale up from zero replicas.
func simAutoscaler(f simFlags, cfg sim.Config, tr *traces.Trace) (sim.Autoscaler, string, []string, error) {
	params, err := yamldoc.ParseInline(f.params)
	if err != nil {
		return nil, "", nil, fmt.Errorf("--%w", err)
	}
	// The summary's header names the parameters beside the policy, so that two runs
	// of one policy at two settings tell themselves apart.
	with := func(name string) string {
		if p := strings.TrimSpace(f.params); p != "" {
			return name + " (" + strings.Join(strings.Fields(p), " ") + ")"
		}
		return name
	}
	if f.policyFile != "" {
		a, warnings, err := learnedAutoscaler(f.policyFile, params, cfg, simEpoch(f.trace, tr))
		if err != nil {
			return nil, "", nil, err
		}
		return a, with(filepath.Base(f.policyFile)), warnings, nil
	}
	a, err := agents.New(f.policy, params, agents.Context{Sim: cfg, Trace: tr})
	if err != nil {
		return nil, "", nil, paramsErr(err, f.policy)
	}
	var warnings []string
	if w, ok := a.(agents.Warner); ok {
		for _, s := range w.Warnings() {
			warnings = append(warnings, "policy "+f.policy+": "+s)
		}
	}
	if cfg.Min() == 0 && !agents.ScalesFromZero(f.policy) {
		warnings = append(warnings, agents.NoScaleFromZero("policy "+f.policy))
	}
	return a, with(f.policy), warnings, nil
}

// paramsErr names the flag in an error about the policy's --params, as
// applyDeploy does for a policy file: "--params: target_utilization: 2: must be in
// (0, 1] (policy hpa)" rather than "params.target_utilization: ...".
func paramsErr(err error, policy string) error {
	var fe *yamldoc.FieldError
	if !errors.As(err, &fe) || fe != err || (fe.Path != "params" && !strings.HasPrefix(fe.Path, "params.")) {
		return err
	}
	c := *fe
	c.Path = strings.TrimPrefix(strings.TrimPrefix(c.Path, "params"), ".")
	return fmt.Errorf("--params: %w (policy %s)", &c, policy)
}

// printSummary prints the run's figures as a table.
func printSummary(w io.Writer, traceName, policy string, seed uint64, res *sim.Result) error {
	s := res.Summary
	fmt.Fprintf(w, "trace %s, policy %s, seed %d, %d intervals of %v\n", traceName, policy, seed, len(res.Timeline), res.Config.ControlInterval)
	// No request completed, no latency: n/a rather than NaN.
	latency := "n/a"
	if res.Totals.Completed > 0 {
		latency = fmt.Sprintf("%.1f / %.1f / %.1f ms", 1000*s.P50, 1000*s.P95, 1000*s.P99)
	}
	t := tablewriter.NewTable(w)
	t.Header("metric", "value")
	rows := [][2]string{
		{"requests", fmt.Sprint(res.Totals.Arrived)},
		{"SLO violations (slow or dropped)", fmt.Sprintf("%.3f%%", s.SLOViolations)},
		{"dropped", fmt.Sprintf("%.3f%%", s.DropRate)},
		{"latency p50 / p95 / p99", latency},
		// The price is the config's cost_per_replica_hour, 1 unless set: at 1 the
		// cost is the replica-hours themselves.
		{fmt.Sprintf("cost (replica-hours x %g per replica-hour)", res.Config.CostPerReplicaHour), fmt.Sprintf("%.2f", s.Cost)},
		{"under-provisioning theta_U / tau_U", fmt.Sprintf("%.2f%% / %.2f%%", s.ThetaU, s.TauU)},
		{"over-provisioning theta_O / tau_O", fmt.Sprintf("%.2f%% / %.2f%%", s.ThetaO, s.TauO)},
		{"scaling accuracy (d <= s <= max(d+1, 1.1d))", fmt.Sprintf("%.2f%%", s.Accuracy)},
		{"mean under-provisioned episode", fmt.Sprintf("%.1f s", s.UnderProvisionSeconds)},
		{"mean time to meet a demand rise", fmt.Sprintf("%.1f s", s.TimeToMeetDemand)},
		{"instability k", fmt.Sprintf("%.2f%%", s.Instability)},
		{"scaling actions", fmt.Sprint(s.ScalingActions)},
	}
	for _, r := range rows {
		if err := t.Append(r[0], r[1]); err != nil {
			return err
		}
	}
	return t.Render()
}
