package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/intelliscale/intelliscale/internal/outpath"
)

// inputFlags registers the values of the named flags of fs as inputs of g.
func inputFlags(g *outpath.Guard, fs *flag.FlagSet, names ...string) {
	for _, n := range names {
		if f := fs.Lookup(n); f != nil {
			g.Input("--"+n, f.Value.String())
		}
	}
}

// checkOutput checks path, the file output named by flag name of fs; when the path
// is the flag's default the error says so.
func checkOutput(g *outpath.Guard, fs *flag.FlagSet, name, path string) error {
	err := g.NewFile("--"+name, path)
	if err != nil && !isSet(fs, name) {
		return fmt.Errorf("%w (the default --%s; give another --%s)", err, name, name)
	}
	return err
}

// freeName is path when no file is there, else the first of path-2, path-3, ...
// (before its extension) that is free, or, with keep non-nil, that keep says
// already holds what is to be written (held then true): a default output never
// replaces a file.
func freeName(path string, keep func(name string) bool) (name string, held bool) {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	name = path
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name, false
		}
		if keep != nil && keep(name) {
			return name, true
		}
		name = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
}

// noArgs refuses positional arguments to a command that takes only flags.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// operand returns the command's one argument when it is given as such (""
// when not), parsing the flags that follow it too: report res --quiet, trace
// import access.log --out t.csv.
func operand(fs *flag.FlagSet) (string, error) {
	if fs.NArg() == 0 {
		return "", nil
	}
	arg := fs.Arg(0)
	return arg, parseFlags(fs, fs.Args()[1:])
}

// isSet reports whether flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
