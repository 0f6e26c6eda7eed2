// Package configs holds the configurations shipped with the repository, as files
// beside this one. Real, make bench-real's experiment, is also built into the
// binary: the training recipes are read from its entries (experiments/train).
package configs

import _ "embed"

// Real is real.yaml, make bench-real's experiment, as it was built.
//
//go:embed real.yaml
var Real []byte
