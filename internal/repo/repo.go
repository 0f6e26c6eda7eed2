// Package repo locates the project's checkout and the folder of real public traces
// that sits beside it, for tests, benchmarks and experiment configs.
package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Root walks up from dir to the directory holding go.mod.
func Root(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("no go.mod above " + dir)
		}
		d = parent
	}
}

// SharedTraces returns the folder of real public traces: $INTELLISCALE_TRACES when
// set, else shared/traces beside the checkout holding dir. The error says why the
// folder is not there.
func SharedTraces(dir string) (string, error) {
	if d := os.Getenv("INTELLISCALE_TRACES"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", fmt.Errorf("INTELLISCALE_TRACES=%s: %w", d, err)
		}
		return d, nil
	}
	root, err := Root(dir)
	if err != nil {
		return "", err
	}
	d := filepath.Join(root, "..", "shared", "traces")
	if _, err := os.Stat(d); err != nil {
		return "", fmt.Errorf("real traces not present beside the checkout (%w); set INTELLISCALE_TRACES to point at them", err)
	}
	return d, nil
}
