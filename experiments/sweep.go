package experiments

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents/policy"
)

// Sweep varies a policy family's one operating knob to trace its cost-against-SLO
// frontier. Each value is a variant of the policy run like a policy of its own, named
// "<policy>@<value>" (train cells, eval cells, summary rows); the policy itself (its
// base parameters) is also run and is one more point of the frontier.
//
// The knobs of the built-in families: threshold `upper`, hpa `target_utilization`,
// kpa `target`, predictive `headroom`, oracle `violation_budget`; learned policies
// `headroom_scale` (a deploy-time parameter, policy.Deploy: every value runs the
// family's own trained policy, no training of its own), or a training parameter
// such as `lagrangian.budget` (PPO-Lagrangian) or `env.slo_weight`, one training
// per value.
type Sweep struct {
	// Param is the dotted path of the parameter: within params for rule policies
	// (for example "target_utilization"); for learned policies, a deploy-time
	// parameter of their params ("headroom_scale") or a path within train.params
	// (for example "lagrangian.budget" or "env.slo_weight"). Required.
	Param string `yaml:"param"`
	// Values are the knob's values, in the parameter's own unit; distinct. Required,
	// at least one.
	Values []float64 `yaml:"values"`
}

// variantSep separates a policy name from a sweep value in a variant's name.
const variantSep = "@"

// Variant is one configuration of a policy family: the policy itself (Base) or one
// value of its sweep.
type Variant struct {
	// Spec is the policy as run: for a sweep value, the family's spec with the knob
	// set and Name "<family>@<value>".
	Spec PolicySpec
	// Family is the name of the policy in the config.
	Family string
	// Base is true for the policy as configured (no sweep value applied).
	Base bool
	// Param and Value are the knob and its value; Value is NaN for a base whose
	// parameters leave the knob at its default.
	Param string
	Value float64
}

// Variants lists every policy configuration the experiment runs, in config order:
// each policy, then its sweep values in the order given.
func Variants(cfg *Config) []Variant {
	var out []Variant
	for _, p := range cfg.Policies {
		out = append(out, p.variants()...)
	}
	return out
}

// variants lists the configurations of one policy: the policy itself, then its
// sweep values in the order given.
func (p PolicySpec) variants() []Variant {
	base := Variant{Spec: p, Family: p.Name, Base: true, Value: math.NaN()}
	if p.Sweep == nil {
		return []Variant{base}
	}
	base.Param = p.Sweep.Param
	base.Value = knobValue(p.knobNode(), p.Sweep.Param)
	out := []Variant{base}
	for _, v := range p.Sweep.Values {
		s := p
		s.Name = p.Name + variantSep + FormatFloat(v)
		s.Sweep = nil
		switch {
		case Learned(p.Kind) && policy.IsDeployKnob(p.Sweep.Param):
			// A deploy-time knob: the family's trained policy (or the policy
			// its ensemble is of), run at v.
			s.Params = *setPath(&p.Params, p.Sweep.Param, v)
			s.trainedAs = p.TrainedAs()
		case Learned(p.Kind):
			t := *p.Train
			t.Params = *setPath(&p.Train.Params, p.Sweep.Param, v)
			s.Train = &t
		default:
			s.Params = *setPath(&p.Params, p.Sweep.Param, v)
		}
		out = append(out, Variant{Spec: s, Family: p.Name, Param: p.Sweep.Param, Value: v})
	}
	return out
}

// FamilyOf returns the family (config policy name) of a variant name.
func FamilyOf(name string) string {
	if i := strings.Index(name, variantSep); i >= 0 {
		return name[:i]
	}
	return name
}

// knobNode is the mapping a sweep's param path lives in.
func (p *PolicySpec) knobNode() *yaml.Node {
	if Learned(p.Kind) && (p.Sweep == nil || !policy.IsDeployKnob(p.Sweep.Param)) {
		if p.Train == nil {
			return nil
		}
		return &p.Train.Params
	}
	return &p.Params
}

// knobValue reads the number at a dotted path of a mapping; NaN when absent.
func knobValue(n *yaml.Node, path string) float64 {
	for _, key := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return math.NaN()
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	var f float64
	if n == nil || n.Kind != yaml.ScalarNode || n.Decode(&f) != nil {
		return math.NaN()
	}
	return f
}

// setPath returns a copy of a params mapping (nil or empty: a new one) with the
// number at a dotted path set to v, creating mappings on the way; the input is not
// modified.
func setPath(n *yaml.Node, path string, v float64) *yaml.Node {
	key, rest, nested := strings.Cut(path, ".")
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	var child *yaml.Node
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				child = n.Content[i+1]
				continue
			}
			out.Content = append(out.Content, n.Content[i], n.Content[i+1])
		}
	}
	val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: FormatFloat(v)}
	if nested {
		val = setPath(child, rest, v)
	}
	out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, val)
	return out
}

// validate checks a sweep of a policy of the given kind at field path at.
func (s *Sweep) validate(at, kind string) error {
	if kind == KindHPATuned {
		return fieldErr(at, "not valid for hpa-tuned (sweep an hpa policy instead)")
	}
	if s.Param == "" {
		return fieldErr(at+".param", "required (the dotted path of the knob)")
	}
	for _, k := range strings.Split(s.Param, ".") {
		if k == "" {
			return fieldErr(at+".param", "%q: empty key in the path", s.Param)
		}
	}
	if len(s.Values) == 0 {
		return fieldErr(at+".values", "at least one value is required")
	}
	seen := map[float64]bool{}
	for i, v := range s.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fieldErr(fmt.Sprintf("%s.values[%d]", at, i), "%v: must be finite", v)
		}
		if seen[v] {
			return fieldErr(fmt.Sprintf("%s.values[%d]", at, i), "%v: duplicate", v)
		}
		seen[v] = true
	}
	return nil
}

// MatchedLevels returns the SLO levels of the matched-SLO table, percent, ascending:
// SLOLevels, or by default 1, 2 and the SLO target's budget (100*(1-target)).
func (c *Config) MatchedLevels() []float64 {
	if len(c.SLOLevels) > 0 {
		out := append([]float64(nil), c.SLOLevels...)
		sort.Float64s(out)
		return out
	}
	out := []float64{1, 2}
	// Rounded so that a target of 0.95 reads as 5, not 5.000000000000004.
	if b := math.Round(sloBudget(c)*1e9) / 1e9; b != 1 && b != 2 {
		out = append(out, b)
	}
	sort.Float64s(out)
	return out
}

func (c *Config) validateLevels() error {
	seen := map[float64]bool{}
	for i, l := range c.SLOLevels {
		if !(l > 0 && l < 100) {
			return fieldErr(fmt.Sprintf("slo_levels[%d]", i), "%v: must be in (0, 100) percent", l)
		}
		if seen[l] {
			return fieldErr(fmt.Sprintf("slo_levels[%d]", i), "%v: duplicate", l)
		}
		seen[l] = true
	}
	return nil
}
