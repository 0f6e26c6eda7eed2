package agents

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// StaticParams configure the static policy.
type StaticParams struct {
	// N is the fixed replica count. Default max(min_replicas, 1); must be in
	// [min_replicas, max_replicas].
	N int `yaml:"n"`
}

// Static always asks for the same replica count: the baseline of fixed provisioning.
type Static struct{ N int }

// Decide returns N.
func (s *Static) Decide(sim.Observation) int { return s.N }

func newStatic(node *yaml.Node, ctx Context) (sim.Autoscaler, error) {
	p := StaticParams{N: max(ctx.Sim.Min(), 1)}
	if err := yamldoc.DecodeParams(node, &p); err != nil {
		return nil, err
	}
	if p.N < ctx.Sim.Min() || p.N > ctx.Sim.MaxReplicas {
		return nil, yamldoc.Invalid("n", p.N, fmt.Sprintf("must be in [min_replicas, max_replicas] = [%d, %d]", ctx.Sim.Min(), ctx.Sim.MaxReplicas))
	}
	return &Static{N: p.N}, nil
}
