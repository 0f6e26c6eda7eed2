// Package env holds gym-style environments: an interface in Gymnasium's shape, spaces,
// a vectorised runner, wrappers, CartPole for validating the learners, and the
// autoscaling environment over the simulator.
package env

// Env is an episodic environment with a continuous observation vector and a discrete
// action, in the shape of Gymnasium's API. The observation slices it returns belong to
// the environment and stay valid only until its next Reset or Step.
type Env interface {
	// ObservationSpace is the box observations lie in.
	ObservationSpace() Box
	// ActionSpace is the set of actions {0, ..., N-1}.
	ActionSpace() Discrete
	// Reset starts a new episode from a seed and returns its first observation.
	Reset(seed uint64) (obs []float64, info Info)
	// Step applies an action. terminated means the episode reached a terminal state
	// (no bootstrapping past it); truncated means it was cut short (a time limit, the
	// end of a trace window): learners bootstrap from the value of obs.
	Step(action int) (obs []float64, reward float64, terminated, truncated bool, info Info)
}

// Info carries diagnostics alongside a transition. Fields not set are zero.
type Info struct {
	// Episode is set on the step that ends an episode (by the EpisodeStatistics wrapper).
	Episode *EpisodeStats
	// FinalObs is set by a vectorised env on auto-reset: the last observation of the
	// episode that ended, while the obs returned is the next episode's first.
	FinalObs []float64
	// Extra holds environment-specific figures (for example cost and SLO penalty).
	Extra map[string]float64
}

// EpisodeStats sums one finished episode.
type EpisodeStats struct {
	Return float64
	Length int
}
