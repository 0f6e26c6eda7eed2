package train

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/intelliscale/intelliscale/internal/configfuzz"
)

// FuzzTrainConfig feeds the training config decoder (DecodeConfig: strict YAML over
// the algorithm's defaults, then Validate) arbitrary documents, seeded with the
// shipped training configs. Whatever the input, it does not panic, an error names
// the file, and a config it accepts validates again without error and without
// change, and decodes the same way twice. `go test` runs the seeds; `go test -fuzz
// FuzzTrainConfig` explores further.
func FuzzTrainConfig(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "configs", "train-*.yaml"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed configs: %v", err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := DecodeConfig(bytes.NewReader(b), filepath.Base(p)); err != nil {
			f.Fatalf("shipped config: %v", err)
		}
		f.Add(b)
	}
	corpus := []string{
		"",
		"algorithm: ppo\n",
		"algorithm: dqn\ndqn: {buffer_size: 0}\n",
		"algorithm: ppo\ndqn: {}\n",
		"algorithm: ppo\nenv: {actions: [], slo_weight: 10}\n",
		"algorithm: ppo\nenv: {sim: {control_interval: 1ns}}\n",
		"algorithm: ppo\nsplit: [.nan, 0.5, 0.5]\ntraces: [{builtin: step, scale_peak: -1}]\n",
		"algorithm: [ppo]\n",
		"algorithm: &a ppo\nppo: *a\n",
	}
	configfuzz.Run(f, corpus, func(b []byte) (Config, error) { return DecodeConfig(bytes.NewReader(b), configfuzz.File) },
		func(c *Config) error { return c.Validate() })
}
