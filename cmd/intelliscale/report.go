package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/intelliscale/intelliscale/internal/outpath"
	"github.com/intelliscale/intelliscale/reports"
)

func init() {
	register(command{
		name:    "report",
		summary: "rebuild an experiment's report from its results directory (no rerun)",
		run:     runReport,
	})
}

// reportFiles are the files reports.Build writes into a results directory.
var reportFiles = []string{"headline.csv", "frontier.csv", "matched_slo.csv", filepath.Join("report", "REPORT.md")}

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "RESULTS_DIR", stderr)
	quiet := fs.Bool("quiet", false, "do not print the headline tables")
	readme := fs.String("readme", "", "also replace the generated section of this Markdown file (README.md) with the headline")
	figures := fs.String("figures", "docs/bench", "with --readme: where the README's copies of the plots go")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "intelliscale report: exactly one results directory is required")
		fs.Usage()
		return errUsage
	}
	dir := fs.Arg(0)
	// The report reads the results and writes beside them; the README and its
	// figures are written from the report, and none of them may be an input.
	var g outpath.Guard
	g.Input("results file", filepath.Join(dir, "config.yaml"))
	g.Input("results file", filepath.Join(dir, "summary.csv"))
	if err := g.Dir("results directory", dir, reportFiles...); err != nil {
		return err
	}
	if *readme != "" {
		if err := checkOutput(&g, fs, "readme", *readme); err != nil {
			return err
		}
		if err := g.Dir("--figures", *figures, "REPORT.md"); err != nil {
			return err
		}
	}
	var term io.Writer = stdout
	if *quiet {
		term = nil
	}
	if err := reports.Build(dir, term); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "report: %s\n", filepath.Join(dir, "report", "REPORT.md"))
	if by := producedBy(dir); by != "" {
		fmt.Fprintf(stderr, "report: produced by %s\n", by)
	}
	if *readme != "" {
		if err := reports.UpdateReadme(*readme, dir, *figures); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report: updated %s and %s\n", *readme, *figures)
	}
	return nil
}
