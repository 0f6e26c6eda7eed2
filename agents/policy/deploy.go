package policy

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// Deploy are a policy's deploy-time parameters: what may change between training
// and running without retraining, given as a learned policy's params (an
// experiment's `params:` of a learned policy, `sim --policy-file --params`, `export
// --params`). Unset fields leave the policy file as it is.
type Deploy struct {
	// HeadroomScale multiplies the headroom (1 - target) of every target
	// utilisation (Policy.HeadroomScale; target and forecast modes only), in (0,
	// 10]: the learned policy's operating knob, as target_utilization is HPA's.
	// Below 1 runs hotter and cheaper (0.5: a 60% target becomes 80%), above 1
	// cooler. Unset: the file's own (1, the policy as trained, when absent).
	HeadroomScale *float64 `yaml:"headroom_scale"`
}

// DecodeDeploy decodes deploy-time parameters strictly (an unknown key is an
// error naming its line); a nil or empty node is no change.
func DecodeDeploy(node *yaml.Node) (Deploy, error) {
	var d Deploy
	err := yamldoc.DecodeParams(node, &d)
	return d, err
}

// ApplyParams decodes deploy-time parameters (nil: none) and applies them to p:
// DecodeDeploy, then Apply. Errors are FieldErrors relative to the params.
func ApplyParams(p *Policy, node *yaml.Node) error {
	d, err := DecodeDeploy(node)
	if err != nil {
		return err
	}
	return d.Apply(p)
}

// Check validates the parameters for a policy of the given action mode, as
// FieldErrors relative to the params.
func (d Deploy) Check(actionMode string) error {
	if d.HeadroomScale != nil {
		// 0, the scale as trained in a file, is out of range here as any other
		// value is, with the same message.
		if s := *d.HeadroomScale; !(s > 0 && s <= env.MaxHeadroomScale) {
			return yamldoc.Invalid("headroom_scale", s, fmt.Sprintf("must be > 0 and at most %v", env.MaxHeadroomScale))
		}
		if err := env.ValidateHeadroomScale(actionMode, *d.HeadroomScale); err != nil {
			return yamldoc.Errorf("headroom_scale", "%v", err)
		}
	}
	return nil
}

// Apply sets the parameters on p (after Check against p's action mode) and
// recomputes its checksum, so that a policy saved afterwards is a valid file of
// its own.
func (d Deploy) Apply(p *Policy) error {
	if err := d.Check(p.ActionMode); err != nil {
		return err
	}
	if d.HeadroomScale == nil {
		return nil
	}
	p.HeadroomScale = *d.HeadroomScale
	if p.HeadroomScale == 1 {
		p.HeadroomScale = 0 // the policy as trained: the file without the field
	}
	sum, err := p.ComputeChecksum()
	if err != nil {
		return err
	}
	p.Checksum = sum
	return nil
}

// IsDeployKnob reports whether a dotted parameter path names a deploy-time
// parameter (a key of Deploy), so that an experiment's sweep of it shares the
// policy's training instead of training once per value.
func IsDeployKnob(path string) bool {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: path},
		{Kind: yaml.ScalarNode, Tag: "!!float", Value: "1"},
	}}
	_, err := DecodeDeploy(n)
	return err == nil
}
