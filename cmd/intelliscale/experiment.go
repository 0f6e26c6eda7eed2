package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/intelliscale/intelliscale/experiments"
	"github.com/intelliscale/intelliscale/internal/buildinfo"
	"github.com/intelliscale/intelliscale/internal/outpath"
	"github.com/intelliscale/intelliscale/reports"
)

func init() {
	register(command{
		name:    "experiment",
		summary: "run an experiment matrix (run), combine shards (merge), print a Kubernetes Job (k8s-job)",
		run:     runExperiment,
	})
}

const experimentUsage = `usage: intelliscale experiment <run|merge|k8s-job> [flags]

  run      execute the matrix of a config into a results directory (resumable)
  merge    combine the results directories of shards into one
  k8s-job  print a Kubernetes Indexed Job running one shard per completion index

intelliscale experiment <subcommand> --help shows its flags and defaults.
`

func runExperiment(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, experimentUsage)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "run":
		return experimentRun(args[1:], stdout, stderr)
	case "merge":
		return experimentMerge(args[1:], stdout, stderr)
	case "k8s-job":
		return experimentJob(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "intelliscale experiment: unknown subcommand %q\n\n%s", args[0], experimentUsage)
	return errUsage
}

func experimentRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("experiment run", "--config FILE [flags]", stderr)
	config := fs.String("config", "experiments/configs/default.yaml", "experiment config (YAML)")
	out := fs.String("out", "", "results directory (default results/<experiment name>)")
	workers := fs.Int("workers", 0, "cells run at once (default: the config's workers, itself defaulting to the number of CPUs)")
	shard := fs.String("shard", "", "run only shard I/N of the matrix, for example 0/4")
	phase := fs.String("phase", experiments.RunAll, "all, prepare (tuning and training) or evaluate")
	prepared := fs.String("prepared", "", "results directory whose finished tuning/training cells are reused")
	quiet := fs.Bool("quiet", false, "no progress display")
	noReport := fs.Bool("no-report", false, "do not build the report at the end")
	checkOnly := fs.Bool("check", false, "only check the config (every trace loaded, every window and policy parameter validated) and exit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "intelliscale experiment run: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	if *workers < 0 {
		return fmt.Errorf("--workers %d: must be >= 0 (0: the config's workers)", *workers)
	}
	cfg, err := experiments.Load(*config)
	if err != nil {
		return err
	}
	if *checkOnly {
		notes, err := experiments.CheckNotes(cfg, experiments.DefaultBackend())
		if err != nil {
			return err
		}
		for _, n := range notes {
			fmt.Fprintf(stderr, "warning: %s\n", n)
		}
		// The run counts every cell, the training and tuning ones included.
		prep, eval := experiments.Matrix(cfg)
		fmt.Fprintf(stdout, "%s: ok (%d traces, %d policies, %d cells: %d training and tuning, %d evaluation)\n", *config, len(cfg.Traces), len(cfg.Policies), len(prep)+len(eval), len(prep), len(eval))
		return nil
	}
	r := &experiments.Runner{Config: cfg, Out: *out, Backend: experiments.DefaultBackend(), Workers: *workers, Phase: *phase, Prepared: *prepared, Log: stderr}
	if r.Out == "" {
		r.Out = filepath.Join("results", cfg.Name)
	}
	var g outpath.Guard
	g.Input("--config", *config)
	g.Input("--prepared", *prepared)
	for i, tr := range cfg.Traces {
		g.Input(fmt.Sprintf("traces[%d].file", i), tr.File)
	}
	if err := g.Dir("--out", r.Out, resultsFiles(*noReport)...); err != nil {
		return err
	}
	if *shard != "" {
		if r.Shard, err = experiments.ParseShard(*shard); err != nil {
			return err
		}
	}
	r.BeforeWrite = func() error {
		if err := os.MkdirAll(r.Out, 0o755); err != nil {
			return err
		}
		return buildinfo.Record(r.Out)
	}
	if !*quiet && os.Getenv("CI") == "" {
		r.Progress = stderr
	}
	if *quiet {
		r.Log = nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := r.Run(ctx)
	if err != nil {
		// A signal stops the running cells, which may report their own
		// interruption (sim: interrupted) rather than the context's.
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return fmt.Errorf("interrupted after %d cells; run the same command again to resume", st.Ran)
		}
		return err
	}
	fmt.Fprintf(stderr, "%d cells run, %d already done; results in %s\n", st.Ran, st.Skipped, r.Out)
	complete := r.Shard.Count <= 1 && (*phase == experiments.RunAll || *phase == experiments.RunEvaluate)
	if *noReport || !complete {
		return nil
	}
	if err := reports.Build(r.Out, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "report: %s\n", filepath.Join(r.Out, "report", "REPORT.md"))
	fmt.Fprintf(stderr, "report: produced by %s\n", producedBy(r.Out))
	return nil
}

// resultsFiles are the files a results directory receives at its top level, and
// those of the report unless noReport.
func resultsFiles(noReport bool) []string {
	files := []string{"config.yaml", "summary.csv", buildinfo.File}
	if !noReport {
		files = append(files, reportFiles...)
	}
	return files
}

func experimentMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("experiment merge", "--out DIR SHARD_DIR...", stderr)
	out := fs.String("out", "", "merged results directory (required)")
	noReport := fs.Bool("no-report", false, "do not build the report when the merge is complete")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Flags may follow the shard directories too (merge --out m shard-* --no-report),
	// as report takes them after its directory.
	var shards []string
	for fs.NArg() > 0 {
		d := fs.Arg(0)
		if err := parseFlags(fs, fs.Args()[1:]); err != nil {
			return err
		}
		shards = append(shards, d)
	}
	if *out == "" || len(shards) == 0 {
		fmt.Fprintln(stderr, "intelliscale experiment merge: --out and at least one shard directory are required")
		fs.Usage()
		return errUsage
	}
	var g outpath.Guard
	for _, d := range shards {
		g.Input("shard directory", d)
		g.Input("shard file", filepath.Join(d, "config.yaml"))
	}
	if err := g.Dir("--out", *out, resultsFiles(*noReport)...); err != nil {
		return err
	}
	st, err := experiments.Merge(*out, shards)
	if err != nil {
		return err
	}
	// The merged directory records every build that produced a shard.
	var builds []string
	for _, d := range shards {
		lines, err := buildinfo.Lines(d)
		if err != nil {
			return err
		}
		builds = append(builds, lines...)
	}
	if err := buildinfo.RecordLines(*out, builds...); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "merged into %s: %d cells copied, %d already there, %d missing\n", *out, st.Copied, st.Present, st.Missing)
	if st.Missing > 0 {
		return fmt.Errorf("%d cells are finished in no shard: rerun the missing shards (or the prepare/evaluate phase) and merge again", st.Missing)
	}
	if *noReport {
		return nil
	}
	return reports.Build(*out, stdout)
}

func experimentJob(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("experiment k8s-job", "--image IMAGE --shards N [flags]", stderr)
	var spec experiments.JobSpec
	fs.StringVar(&spec.Name, "name", "intelliscale-experiment", "Job name (a DNS label); results go to /results/<name>/shard-<index>")
	fs.StringVar(&spec.Image, "image", "", "container image with the intelliscale binary (required)")
	fs.StringVar(&spec.Config, "config", "/results/default.yaml", "experiment config path in the pod (on the results volume, say: the project's image holds the binary alone)")
	fs.IntVar(&spec.Shards, "shards", 4, "number of shards (Job completions)")
	fs.IntVar(&spec.Parallelism, "parallelism", 0, "pods at once (default: shards)")
	fs.StringVar(&spec.Claim, "claim", "intelliscale-results", "PersistentVolumeClaim mounted at /results")
	fs.StringVar(&spec.Phase, "phase", experiments.RunAll, "all, prepare or evaluate")
	fs.StringVar(&spec.Prepared, "prepared", "", "results directory on the volume whose tuning/training cells are reused (for --phase evaluate)")
	fs.StringVar(&spec.CPU, "cpu", "2", "CPU cores per pod (request and limit)")
	fs.StringVar(&spec.Memory, "memory", "2Gi", "memory per pod (request and limit)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(spec.Image) == "" {
		fmt.Fprintln(stderr, "intelliscale experiment k8s-job: --image is required")
		fs.Usage()
		return errUsage
	}
	// An empty value given on the command line is refused rather than replaced by
	// the default the Job would then use without saying so.
	for _, name := range []string{"claim", "phase", "cpu", "memory", "config"} {
		if f := fs.Lookup(name); isSet(fs, name) && strings.TrimSpace(f.Value.String()) == "" {
			return fmt.Errorf("--%s: empty (leave the flag out for its default, %s)", name, f.DefValue)
		}
	}
	return experiments.WriteJob(stdout, spec)
}
