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
// (before its extension) that is free: a default output never replaces a file.
func freeName(path string) string {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	name := path
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
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
