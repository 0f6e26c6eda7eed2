// Package testpolicy builds policy files with a known decision rule for tests.
package testpolicy

import (
	"slices"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/env/features"
)

// Clock is a policy that decides by the time of day alone, on the default
// features of a 0.5 s SLO: two replicas more while the time of day's sine is
// positive (midnight to noon), two fewer while it is negative. A run whose clock
// is off shows it in its replica counts.
func Clock() *policy.Policy {
	spec := features.Default(0.5)
	in, tod := len(spec.Features), slices.Index(spec.Names(), "tod_sin")
	params := make([]float64, 3*in+3)
	params[0*in+tod], params[2*in+tod] = -10, 10
	return &policy.Policy{
		Version: policy.Version, Algorithm: "ppo",
		Network:  policy.Network{Sizes: []int{in, 3}, Activation: "identity", Params: params},
		Features: spec, Actions: []int{-2, 0, 2},
		Sim: policy.SimInfo{ControlIntervalSeconds: 15, ScrapeIntervalSeconds: 15, SLOLatencySeconds: 0.5, SLOTarget: 0.95,
			MinReplicas: 1, MaxReplicas: 20, Concurrency: 1},
		Training: policy.TrainingInfo{Steps: 1, Episodes: 1, ConfigHash: "sha256:00", Traces: []string{"clock"}},
	}
}
