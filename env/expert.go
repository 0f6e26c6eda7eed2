package env

import (
	"time"

	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// Closest is the index of the action whose decision, taken at now with current in
// force on observation obs within [lo, hi] (as Desired would take it), comes closest
// in effect to asking for want replicas: the action whose count after the shield is
// nearest want; among those, the one whose count before the shield is nearest
// want; then the first. In target mode that is the target utilisation whose HPA
// count, shielded, is nearest want; in delta and percent modes the replica or
// percent change. It is how an expert's decision (a rule policy's desired count)
// becomes an action of the environment, to imitate it. It changes nothing Desired
// depends on.
func (a *Actuator) Closest(now time.Duration, current int, obs []float64, lo, hi, want int) int {
	var recent []recommendation
	if a.Shield.ScaleDownWindow > 0 {
		recent = a.window(now)
	}
	best, bestAfter, bestBefore := 0, -1, -1
	for i := range a.Actions {
		n := a.Target(current, i, obs)
		after, before := absDiff(a.shield(recent, current, n, lo, hi), want), absDiff(n, want)
		if bestAfter < 0 || after < bestAfter || (after == bestAfter && before < bestBefore) {
			best, bestAfter, bestBefore = i, after, before
		}
	}
	return best
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// ExpertAction is Closest for the environment's next step: the action whose effect
// is nearest asking for want replicas now, with the count in force, the current
// observation, the shield's memory and the replica bounds of the episode.
func (a *Autoscale) ExpertAction(want int) int {
	c := &a.cfg.Sim
	return a.act.Closest(a.s.Now(), a.desired, a.obs, c.Min(), c.MaxReplicas, want)
}

// Window is the current episode's traffic from its window's start (sim time zero),
// rates scaled by the episode's factor: what an expert that knows the future (the
// oracle) is given as its trace. Nil before the first Reset.
func (a *Autoscale) Window() *traces.Trace { return a.window }

// LastObservation is the cluster's observation at the end of the latest step (or
// of the warm-up): what a rule policy deciding the next step sees.
func (a *Autoscale) LastObservation() sim.Observation { return a.last }
