package main

import (
	"fmt"
	"io"

	"github.com/intelliscale/intelliscale/internal/buildinfo"
)

func init() {
	register(command{
		name:    "version",
		summary: "print the module version and VCS revision this binary was built from",
		run:     runVersion,
	})
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", "\n\nPrints one line: intelliscale VERSION revision=R modified=BOOL time=T go=V\n"+
		"(the same line results directories, training runs and policy files record).", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	_, err := fmt.Fprintln(stdout, buildinfo.Read())
	return err
}

// producedBy returns the builds recorded in dir, joined, or "" when none are.
func producedBy(dir string) string {
	lines, err := buildinfo.Lines(dir)
	if err != nil || len(lines) == 0 {
		return ""
	}
	s := lines[0]
	for _, l := range lines[1:] {
		s += "; " + l
	}
	return s
}
