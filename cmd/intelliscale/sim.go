package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/internal/atomicfile"
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

// simFlags are the flags of `intelliscale sim`.
type simFlags struct {
	trace, builtin, config, policy, params, policyFile string
	timeline, openmetrics                              string
	seed                                               uint64
	scaleMean                                          float64
	from, length                                       time.Duration
}

func runSim(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sim", "(--trace FILE | --builtin NAME) [--policy NAME | --policy-file FILE] [flags]", stderr)
	var f simFlags
	fs.StringVar(&f.trace, "trace", "", "trace file to replay (CSV, per-bucket counts, access log; see intelliscale trace import)")
	fs.StringVar(&f.builtin, "builtin", "", "built-in synthetic trace instead of --trace: "+strings.Join(builtinNames(), ", "))
	fs.StringVar(&f.config, "config", "", "simulator settings, YAML (sim.Config fields; unset fields take their defaults)")
	fs.StringVar(&f.policy, "policy", "hpa", "rule-based policy: "+strings.Join(agents.Names(), ", "))
	fs.StringVar(&f.params, "params", "", "policy parameters as inline YAML, e.g. 'target_utilization: 0.7'")
	fs.StringVar(&f.policyFile, "policy-file", "", "exported learned policy (overrides --policy)")
	fs.StringVar(&f.timeline, "timeline", "timeline.csv", "where to write the timeline CSV (- for stdout, empty for none)")
	fs.StringVar(&f.openmetrics, "openmetrics", "", "also write the run's metric series as OpenMetrics text to this file")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed of the run (overrides the config's)")
	fs.Float64Var(&f.scaleMean, "scale-mean", 0, "rescale the trace to this mean rate, requests/s (0: as is)")
	fs.DurationVar(&f.from, "from", 0, "start offset into the trace")
	fs.DurationVar(&f.length, "length", 0, "length of the window to simulate (0: to the end)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	tr, err := loadTraceFlag(f.trace, f.builtin)
	if err != nil {
		return err
	}
	if f.from > 0 || f.length > 0 {
		end := tr.Duration()
		if f.length > 0 {
			end = min(end, f.from+f.length)
		}
		if tr, err = traces.Slice(tr, f.from, end); err != nil {
			return fmt.Errorf("--from/--length: %w", err)
		}
	}
	if f.scaleMean > 0 {
		if tr, err = traces.ScaleMean(tr, f.scaleMean); err != nil {
			return fmt.Errorf("--scale-mean: %w", err)
		}
	}
	cfg, err := loadSimConfig(f.config)
	if err != nil {
		return err
	}
	cfg.Seed = f.seed
	if cfg, err = cfg.Validate(); err != nil {
		return err
	}
	a, name, err := simAutoscaler(f, cfg, tr)
	if err != nil {
		return err
	}
	res, rec, err := runWithRecording(cfg, tr, a, f.openmetrics != "")
	if err != nil {
		return err
	}
	if f.openmetrics != "" {
		if err := writeOpenMetricsFile(f.openmetrics, rec, tr); err != nil {
			return err
		}
	}
	if f.timeline != "" {
		var buf bytes.Buffer
		if err := sim.WriteTimelineCSV(&buf, res.Timeline); err != nil {
			return err
		}
		if f.timeline == "-" {
			_, err = stdout.Write(buf.Bytes())
			return err
		}
		if err := atomicfile.Write(f.timeline, buf.Bytes()); err != nil {
			return err
		}
	}
	return printSummary(stdout, tr.Name, name, cfg.Seed, res)
}

func builtinNames() []string {
	var names []string
	for _, s := range traces.DefaultSpecs() {
		names = append(names, s.Name)
	}
	return names
}

// loadTraceFlag loads --trace FILE or synthesizes --builtin NAME.
func loadTraceFlag(file, builtin string) (*traces.Trace, error) {
	switch {
	case file != "" && builtin != "":
		return nil, fmt.Errorf("--trace and --builtin are exclusive")
	case file != "":
		return traces.LoadFile(file, traces.LoadOptions{})
	case builtin != "":
		spec, err := traces.DefaultSpec(builtin)
		if err != nil {
			return nil, fmt.Errorf("--builtin: %w", err)
		}
		return traces.Synthesize(spec, traces.DefaultSeed)
	}
	return nil, fmt.Errorf("no trace: give --trace FILE or --builtin NAME")
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
	cfg, err := sim.DecodeConfig(fh)
	if err != nil {
		return sim.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// simAutoscaler builds the policy named by the flags.
func simAutoscaler(f simFlags, cfg sim.Config, tr *traces.Trace) (sim.Autoscaler, string, error) {
	if f.policyFile != "" {
		a, err := learnedAutoscaler(f.policyFile, cfg, tr)
		if err != nil {
			return nil, "", err
		}
		return a, filepath.Base(f.policyFile), nil
	}
	var params *yaml.Node
	if f.params != "" {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(f.params), &doc); err != nil {
			return nil, "", fmt.Errorf("--params: %w", err)
		}
		if len(doc.Content) > 0 {
			params = doc.Content[0]
		}
	}
	a, err := agents.New(f.policy, params, agents.Context{Sim: cfg, Trace: tr})
	if err != nil {
		return nil, "", err
	}
	return a, f.policy, nil
}

// printSummary prints the run's figures as a table.
func printSummary(w io.Writer, traceName, policy string, seed uint64, res *sim.Result) error {
	s := res.Summary
	fmt.Fprintf(w, "trace %s, policy %s, seed %d, %d intervals of %v\n", traceName, policy, seed, len(res.Timeline), res.Config.ControlInterval)
	t := tablewriter.NewTable(w)
	t.Header("metric", "value")
	rows := [][2]string{
		{"requests", fmt.Sprint(res.Totals.Arrived)},
		{"SLO violations (slow or dropped)", fmt.Sprintf("%.3f%%", s.SLOViolations)},
		{"dropped", fmt.Sprintf("%.3f%%", s.DropRate)},
		{"latency p50 / p95 / p99", fmt.Sprintf("%.1f / %.1f / %.1f ms", 1000*s.P50, 1000*s.P95, 1000*s.P99)},
		{"cost (replica-hours x price)", fmt.Sprintf("%.2f", s.Cost)},
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
