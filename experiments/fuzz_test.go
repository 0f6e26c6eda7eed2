package experiments

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/internal/configfuzz"
)

// FuzzExperimentConfig feeds the experiment config decoder (Parse: strict YAML, then
// Validate) arbitrary documents, seeded with the shipped configs. Whatever the
// input, it does not panic, an error names the file, and a config it accepts
// validates again without error and without change (Validate is idempotent), and
// decodes the same way twice. `go test` runs the seeds; `go test -fuzz
// FuzzExperimentConfig` explores further.
func FuzzExperimentConfig(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("configs", "*.yaml"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed configs: %v", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// The training configs beside them are seeds too, of the refused kind.
		if _, err := Parse(b, filepath.Base(p)); err != nil && !strings.HasPrefix(filepath.Base(p), "train-") {
			f.Fatalf("shipped config: %v", err)
		}
		f.Add(b)
	}
	corpus := []string{
		"",
		"name: x\n",
		"name: x\ntraces: [{name: t, builtin: step}]\npolicies: [{name: p, kind: hpa}]\n",
		"name: x\nsim: {control_interval: 1ns}\ntraces: [{name: t, builtin: step}]\npolicies: [{name: p, kind: hpa}]\n",
		"name: x\ntraces: [{name: t, builtin: step, scale_mean: .nan}]\npolicies: [{name: p, kind: hpa-tuned, tune: {grid: [.inf]}}]\n",
		"name: x\ntraces: [{name: t, builtin: step, windows: {train: {start: 1h, end: 0s}}}]\npolicies: [{name: p, kind: ppo, train: {steps: -1}}]\n",
		"name: &a x\nseeds: *a\n",
		"name: x\n---\nname: y\n",
	}
	configfuzz.Run(f, corpus, func(b []byte) (*Config, error) { return Parse(b, configfuzz.File) },
		func(c **Config) error { return (*c).Validate() })
}
