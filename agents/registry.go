// Package agents holds the rule-based autoscalers (static, threshold, Kubernetes HPA,
// Knative KPA, predictive and oracle) behind one registry. Every policy implements
// sim.Autoscaler and is built by name from strictly decoded YAML parameters.
package agents

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// Context is what a policy may know besides its parameters.
type Context struct {
	// Sim is the simulated service's configuration (New validates it again).
	Sim sim.Config
	// Trace is the trace being run; the oracle needs it, the others ignore it.
	Trace *traces.Trace
	// Start is the offset in Trace where the run starts; 0 usually.
	Start time.Duration
}

// Resetter is implemented by stateful policies: Reset forgets all history, as if the
// policy had just been built.
type Resetter interface {
	Reset()
}

// factory builds one policy from its (possibly nil) parameters.
type factory func(params *yaml.Node, ctx Context) (sim.Autoscaler, error)

// Warner is implemented by policies that can tell, once built, that parameters
// valid on their own will not work as meant on the service or trace of their
// Context (a season longer than the run, say): Warnings says so, one sentence
// each naming the parameter; none when all is well.
type Warner interface {
	Warnings() []string
}

// entry is a registered policy: how to build it, and what it can do.
type entry struct {
	build factory
	// fromZero: the policy asks for replicas when none is Ready (it scales on the
	// request rate, the trace, or nothing at all), so min_replicas 0 is safe with
	// it. A policy scaling on the utilisation of Ready replicas has nothing to
	// read at zero.
	fromZero bool
}

var registry = map[string]entry{
	"static":     {newStatic, true},
	"threshold":  {newThreshold, false},
	"hpa":        {newHPA, false},
	"kpa":        {newKPA, true},
	"predictive": {newPredictive, true},
	"oracle":     {newOracle, true},
}

// Names returns the registered policy names, sorted.
func Names() []string {
	return slices.Sorted(maps.Keys(registry))
}

// ScalesFromZero reports whether the registered policy called name can ask for
// replicas when none is Ready, that is whether it can run with min_replicas 0;
// false for an unknown name.
func ScalesFromZero(name string) bool { return registry[name].fromZero }

// NoScaleFromZero is the warning for a policy that cannot scale from zero
// replicas (ScalesFromZero false; policy names it) run with min_replicas 0.
func NoScaleFromZero(policy string) string {
	var can []string
	for _, n := range Names() {
		if registry[n].fromZero {
			can = append(can, n)
		}
	}
	return fmt.Sprintf("min_replicas is 0, and %s cannot scale up from zero replicas: it scales on the utilisation of Ready replicas, and at zero replicas there is none to scale back up on (HPA's ratio rule on zero pods; the live controller refuses --min 0 for the same reason), so once at zero it stays there and every request is dropped; set min_replicas to at least 1, or use a policy that can (%s)",
		policy, strings.Join(can, ", "))
}

// New builds the policy called name with params (nil for all defaults) for the
// service and trace in ctx. A bad parameter is a *yamldoc.FieldError at
// "params.<key>", with the line params has in its document (Locate adds the file).
func New(name string, params *yaml.Node, ctx Context) (sim.Autoscaler, error) {
	e, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("agents: unknown policy %q (known: %v)", name, Names())
	}
	cfg := ctx.Sim
	if err := cfg.Validate(); err != nil {
		return nil, yamldoc.Within("sim", err)
	}
	ctx.Sim = cfg
	a, err := e.build(params, ctx)
	if err != nil {
		return nil, yamldoc.Within("params", err)
	}
	return a, nil
}

// clamp bounds n to the observation's replica limits (when they are set).
func clamp(n int, obs sim.Observation) int {
	if obs.MaxReplicas > 0 && n > obs.MaxReplicas {
		n = obs.MaxReplicas
	}
	if n < obs.MinReplicas {
		n = obs.MinReplicas
	}
	return max(n, 0)
}

// current is the replica count in force: the last decision, or the replicas that
// exist when no decision has been recorded yet.
func current(obs sim.Observation) int {
	if obs.Desired > 0 {
		return obs.Desired
	}
	return obs.Ready + obs.Provisioning
}

// steps is the number of control intervals covering d (at least 1).
func steps(d, interval time.Duration) int {
	if interval <= 0 {
		return 1
	}
	return max(1, int((d+interval-1)/interval))
}
