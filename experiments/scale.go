package experiments

import (
	"github.com/intelliscale/intelliscale/experiments/train"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// windowSim is the simulator config s of one run on a window with its seed set and,
// unless the experiment sets sim.initial_replicas or turns warm_start off, the
// window's first demand Ready at time zero, as training episodes start (env.Autoscale.Reset). A window
// cut from the middle of a day at 100 replicas would otherwise open with one replica
// and a backlog that every policy pays for alike, a floor of violations that hides the
// differences at the 1% level.
func (c *Config) windowSim(s sim.Config, window *traces.Trace, seed uint64) sim.Config {
	s.Seed = seed
	if c.WarmStart == nil || *c.WarmStart {
		return train.WarmStart(s, window)
	}
	return s
}
