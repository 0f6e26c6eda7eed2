package sim

import "time"

// Observation is what an autoscaler sees at a decision: figures over the last control
// window and the state of the replicas at its end.
type Observation struct {
	// Time is the virtual time of the decision, since the start of the run.
	Time time.Duration
	// Window is the length of the period the counts below cover (the control interval).
	Window time.Duration
	// Arrivals, Completed and Dropped count requests in the window; Dropped includes
	// queue overflow, no ready replica, timeouts and drain-grace expiry.
	Arrivals, Completed, Dropped int
	// ArrivalRate is Arrivals per second of Window.
	ArrivalRate float64
	// LatencyP50/P95/P99 are response-time quantiles of requests completed in the
	// window, in seconds; NaN when none completed.
	LatencyP50, LatencyP95, LatencyP99 float64
	// SLOViolations counts completed requests slower than the SLO plus dropped ones.
	SLOViolations int
	// Utilisation is busy worker-slot seconds over available worker-slot seconds of
	// Ready replicas in the window, in [0, 1].
	Utilisation float64
	// BusySlots is the mean number of worker slots of Ready replicas busy over the
	// window (busy slot-seconds over the window's length). Unlike Utilisation it does
	// not depend on how many replicas were Ready when: a replica that became Ready
	// at the window's end adds nothing to it.
	BusySlots float64
	// InFlight (queued plus in service) and Queued at the end of the window.
	InFlight, Queued int
	// Ready, Provisioning and Draining replicas at the end of the window.
	Ready, Provisioning, Draining int
	// Desired is the replica count in force (the last decision, clamped).
	Desired int
	// Slots is the number of worker slots per replica (Config.Concurrency).
	Slots int
	// MinReplicas and MaxReplicas the decision will be clamped to.
	MinReplicas, MaxReplicas int
}

// Autoscaler decides the desired replica count from an observation. The simulator
// clamps the answer to [MinReplicas, MaxReplicas] and applies it through the replica
// lifecycle: new replicas start Provisioning, surplus ones start Draining.
type Autoscaler interface {
	Decide(obs Observation) int
}

// AutoscalerFunc adapts a function to Autoscaler.
type AutoscalerFunc func(Observation) int

// Decide calls f.
func (f AutoscalerFunc) Decide(obs Observation) int { return f(obs) }
