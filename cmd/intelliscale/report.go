package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/intelliscale/intelliscale/reports"
)

func init() {
	register(command{
		name:    "report",
		summary: "rebuild an experiment's report from its results directory (no rerun)",
		run:     runReport,
	})
}

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
	var term io.Writer = stdout
	if *quiet {
		term = nil
	}
	if err := reports.Build(dir, term); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "report: %s\n", filepath.Join(dir, "report", "REPORT.md"))
	if *readme != "" {
		if err := reports.UpdateReadme(*readme, dir, *figures); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report: updated %s and %s\n", *readme, *figures)
	}
	return nil
}
