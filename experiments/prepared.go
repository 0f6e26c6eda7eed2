package experiments

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// This file decides which tuning and training cells of a prepared results directory
// (Runner.Prepared) a run may reuse: only those produced with the settings the
// run's own cell would be produced with.

// openPrepared reads the config a prepared results directory was produced under,
// failing when dir is not a results directory.
func openPrepared(dir string) (*Config, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("--prepared %s: no such directory", dir)
	case err != nil:
		return nil, fmt.Errorf("--prepared %s: %w", dir, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("--prepared %s: not a directory", dir)
	}
	path := filepath.Join(dir, "config.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--prepared %s: not a results directory: %w", dir, err)
	}
	cfg, err := Parse(data, path)
	if err != nil {
		return nil, fmt.Errorf("--prepared %s: %w", dir, err)
	}
	return cfg, nil
}

// cellSettings is everything the work of a tuning or training cell c of cfg
// depends on, as a YAML tree: the config reduced to the cell's policy (its sweep
// left out: each variant is a cell of its own) and, for a tuning cell, to its
// trace, or, for a training cell, to its seed; without what only evaluation and
// reports read (name, eval, baselines, slo_levels, workers) and, for a training
// cell, the policy's params (deploy-time only, policy.Deploy). Everything else,
// the sim section (defaults filled), warm start and the traces among them, counts:
// a setting added to Config later counts too unless it is left out here.
func cellSettings(cfg *Config, c Cell) (*yaml.Node, error) {
	s := *cfg
	s.Name, s.Eval, s.Baselines, s.SLOLevels, s.Workers = "", nil, nil, nil, 0
	// The sim section with its defaults filled, as every run fills them: a default
	// left out and the same value written out are the same work. Validate fills
	// the copy; the config passed it already.
	_ = s.Sim.Validate()
	s.Policies = nil
	for _, v := range Variants(cfg) {
		if v.Spec.Name == c.Policy {
			p := v.Spec
			p.Sweep = nil
			if c.Phase == PhaseTrain {
				p.Params = yaml.Node{}
			}
			s.Policies = []PolicySpec{p}
		}
	}
	if s.Policies == nil {
		return nil, fmt.Errorf("no policy %q", c.Policy)
	}
	switch c.Phase {
	case PhaseTune:
		s.Traces = nil
		for _, t := range cfg.Traces {
			if t.Name == c.Trace {
				s.Traces = []TraceSpec{t}
			}
		}
		if s.Traces == nil {
			return nil, fmt.Errorf("no trace %q", c.Trace)
		}
	case PhaseTrain:
		s.Seeds = []uint64{c.Seed}
	}
	var n yaml.Node
	if err := n.Encode(&s); err != nil {
		return nil, err
	}
	return &n, nil
}

// checkPrepared returns an error naming the prepared directory dir, the cell and
// the first setting that differs when the prepare cell c of prep (the config dir
// was produced under) was not produced with the settings of c in cfg.
func checkPrepared(dir string, prep, cfg *Config, c Cell) error {
	here, err := cellSettings(cfg, c)
	if err != nil {
		return err
	}
	there, err := cellSettings(prep, c)
	if err != nil {
		return fmt.Errorf("--prepared %s: cell %s: its config.yaml has %v", dir, c.Dir(), err)
	}
	if d := firstDifference(there, here, "", "there", "here"); d != "" {
		return fmt.Errorf("--prepared %s: cell %s was produced with other settings than this config's (%s); use a directory prepared with this config, or leave out --prepared", dir, c.Dir(), d)
	}
	return nil
}

// firstDifference describes the first place, in document order of b, where the
// YAML trees a and b differ, saying where each value is by aIs and bIs ("there",
// "in sh0"), or returns "" when they hold the same values: mapping keys in any order,
// comments and styles ignored. Sequence entries that are mappings with a name are
// labelled by it (policies[ppo]).
func firstDifference(a, b *yaml.Node, path, aIs, bIs string) string {
	at := path
	if at == "" {
		at = "the document"
	}
	a, b = nodeContent(a), nodeContent(b)
	switch {
	case a == nil && b == nil:
		return ""
	case a == nil || b == nil || a.Kind != b.Kind:
		return fmt.Sprintf("%s is %s %s, %s %s", at, showNode(a), aIs, showNode(b), bIs)
	}
	switch a.Kind {
	case yaml.MappingNode:
		keys := map[string]*yaml.Node{}
		for i := 0; i+1 < len(a.Content); i += 2 {
			keys[a.Content[i].Value] = a.Content[i+1]
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(b.Content); i += 2 {
			k := b.Content[i].Value
			seen[k] = true
			if d := firstDifference(keys[k], b.Content[i+1], yamlPath(path, k), aIs, bIs); d != "" {
				return d
			}
		}
		for i := 0; i+1 < len(a.Content); i += 2 {
			if k := a.Content[i].Value; !seen[k] {
				return firstDifference(a.Content[i+1], nil, yamlPath(path, k), aIs, bIs)
			}
		}
	case yaml.SequenceNode:
		if len(a.Content) != len(b.Content) {
			return fmt.Sprintf("%s has %d entries %s, %d %s", at, len(a.Content), aIs, len(b.Content), bIs)
		}
		for i := range b.Content {
			label := fmt.Sprint(i)
			if name := mappingValue(b.Content[i], "name"); name != "" {
				label = name
			}
			if d := firstDifference(a.Content[i], b.Content[i], fmt.Sprintf("%s[%s]", path, label), aIs, bIs); d != "" {
				return d
			}
		}
	default:
		if a.Value != b.Value {
			return fmt.Sprintf("%s is %s %s, %s %s", at, showNode(a), aIs, showNode(b), bIs)
		}
	}
	return ""
}

// nodeContent is the node a document or alias node stands for; nil for an absent or
// null value (a key left out and a key set to null mean the same).
func nodeContent(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	if n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	return n
}

// showNode renders a node for an error message, in flow style on one line.
func showNode(n *yaml.Node) string {
	if n == nil {
		return "absent"
	}
	c := *n
	c.Style = yaml.FlowStyle
	out, err := yaml.Marshal(&c)
	if err != nil {
		return "a " + n.Tag
	}
	return strings.TrimSpace(string(out))
}

// mappingValue is the scalar value of key in mapping n, "" when there is none.
func mappingValue(n *yaml.Node, key string) string {
	if n = nodeContent(n); n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// yamlPath is the dotted path of key inside path.
func yamlPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
