package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// MergeStats counts the cells of a merge.
type MergeStats struct {
	Copied, Present, Missing int
}

// Merge combines the results directories of shards (or of interrupted runs) into dst:
// every finished cell found in a source is copied once, and dst/summary.csv is
// rebuilt. All sources must hold the same config.yaml. A cell finished in two
// sources must have identical metrics.json (the runs are deterministic, so a
// difference means something is wrong). Missing counts cells finished nowhere.
func Merge(dst string, srcs []string) (MergeStats, error) {
	var st MergeStats
	if len(srcs) == 0 {
		return st, errors.New("merge: no source directories")
	}
	var conf []byte
	for _, s := range srcs {
		data, err := os.ReadFile(filepath.Join(s, "config.yaml"))
		if err != nil {
			return st, fmt.Errorf("merge: %w", err)
		}
		if conf != nil && !bytes.Equal(conf, data) {
			return st, fmt.Errorf("merge: %s: config.yaml differs from %s%s", s, filepath.Join(srcs[0], "config.yaml"), configDifference(conf, srcs[0], data, s))
		}
		conf = data
	}
	cfg, err := Parse(conf, filepath.Join(srcs[0], "config.yaml"))
	if err != nil {
		return st, fmt.Errorf("merge: %w", err)
	}
	if old, err := os.ReadFile(filepath.Join(dst, "config.yaml")); err == nil && !bytes.Equal(old, conf) {
		return st, fmt.Errorf("merge: %s holds a different experiment%s", dst, configDifference(old, dst, conf, "the shards"))
	}
	if err := writeFileAtomic(filepath.Join(dst, "config.yaml"), conf); err != nil {
		return st, err
	}
	if err := mergePolicyFiles(dst, srcs, cfg); err != nil {
		return st, err
	}
	prepare, eval := Matrix(cfg)
	for _, c := range append(prepare, eval...) {
		var from string
		for _, s := range srcs {
			d := filepath.Join(s, c.Dir())
			if !isDone(d) {
				continue
			}
			if from == "" {
				from = d
				continue
			}
			if c.Phase == PhaseEval {
				a, errA := os.ReadFile(filepath.Join(from, "metrics.json"))
				b, errB := os.ReadFile(filepath.Join(d, "metrics.json"))
				if errA != nil || errB != nil || !bytes.Equal(a, b) {
					return st, fmt.Errorf("merge: cell %s: %s and %s disagree", c.Dir(), from, d)
				}
			}
		}
		target := filepath.Join(dst, c.Dir())
		switch {
		case isDone(target):
			st.Present++
		case from == "":
			st.Missing++
		default:
			if err := copyCell(from, target); err != nil {
				return st, fmt.Errorf("merge: %w", err)
			}
			st.Copied++
		}
	}
	return st, summarize(dst, cfg)
}

// mergePolicyFiles copies the runs' copies of the policy files (PolicySpec.File)
// into dst; the sources holding one must hold the same bytes, since each
// evaluated its own copy.
func mergePolicyFiles(dst string, srcs []string, cfg *Config) error {
	for _, p := range cfg.Policies {
		if p.File == "" {
			continue
		}
		rel := filepath.Join(policyFileDir(p.Name), "policy.json")
		var data []byte
		from := ""
		for _, s := range append([]string{dst}, srcs...) {
			b, err := os.ReadFile(filepath.Join(s, rel))
			if err != nil {
				continue
			}
			if data != nil && !bytes.Equal(b, data) {
				return fmt.Errorf("merge: policy %q: %s and %s evaluated different files", p.Name, filepath.Join(from, rel), filepath.Join(s, rel))
			}
			data, from = b, s
		}
		if data == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dst, policyFileDir(p.Name)), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dst, rel), data); err != nil {
			return err
		}
	}
	return nil
}

// configDifference names the first setting in which the resolved configs a and b
// (config.yaml files) differ, as " (SETTING is A in aName, B in bName)", or "" when
// their values are the same or one does not parse.
func configDifference(a []byte, aName string, b []byte, bName string) string {
	var x, y yaml.Node
	if yaml.Unmarshal(a, &x) != nil || yaml.Unmarshal(b, &y) != nil {
		return ""
	}
	d := firstDifference(&x, &y, "", "in "+aName, "in "+bName)
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}
