package sim

import "time"

// Balancer names accepted in Config.Balancer.
const (
	LeastOutstanding = "least-outstanding"
	RoundRobin       = "round-robin"
	Random           = "random"
)

// Dist is a distribution of non-negative durations, in seconds. It is decoded from
// YAML as, for example, {kind: lognormal, mean: 0.1, cv: 1.5}.
type Dist struct {
	// Kind is one of exponential, lognormal, constant, empirical.
	Kind string `yaml:"kind"`
	// Mean in seconds (exponential, lognormal, constant).
	Mean float64 `yaml:"mean"`
	// CV is the coefficient of variation (standard deviation over mean) of lognormal.
	CV float64 `yaml:"cv"`
	// Samples in seconds, drawn uniformly (empirical).
	Samples []float64 `yaml:"samples"`
}

// SLO is the service-level objective a request is judged against.
type SLO struct {
	// Latency: a completed request slower than this violates the SLO; a dropped one
	// always does. Default 500ms.
	Latency time.Duration `yaml:"latency"`
	// Target is the share of requests that must meet Latency (for example 0.95:
	// at most 5% of requests may be slow or dropped). Default 0.95.
	Target float64 `yaml:"target"`
}

// Config describes one simulated service. The zero value of every field means its
// default; Validate fills defaults and rejects bad combinations in one place.
type Config struct {
	// Seed of the run's random source; the same seed gives the same bytes out.
	Seed uint64 `yaml:"seed"`
	// ServiceTime of one request on one worker slot. Default exponential, mean 0.1 s.
	ServiceTime Dist `yaml:"service_time"`
	// Timeout per request from its arrival; a request not finished by then is dropped.
	// Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// QueueCapacity is the number of requests a replica holds waiting for a slot;
	// an arrival finding it full is dropped. Default 100.
	QueueCapacity int `yaml:"queue_capacity"`
	// Concurrency is the number of worker slots per replica. Default 4.
	Concurrency int `yaml:"concurrency"`
	// StartupDelay from the request for a replica until it is Ready. Default constant 30 s.
	StartupDelay Dist `yaml:"startup_delay"`
	// DrainGrace is how long a Draining replica may finish in-flight work before it is
	// Gone; requests still running then are dropped. Default 30s.
	DrainGrace time.Duration `yaml:"drain_grace"`
	// MinReplicas and MaxReplicas bound the replica count. Defaults 1 and 50.
	MinReplicas int `yaml:"min_replicas"`
	MaxReplicas int `yaml:"max_replicas"`
	// InitialReplicas are Ready at time zero. Default MinReplicas.
	InitialReplicas int `yaml:"initial_replicas"`
	// Balancer is least-outstanding (default), round-robin or random.
	Balancer string `yaml:"balancer"`
	// ControlInterval between autoscaler decisions. Default 15s.
	ControlInterval time.Duration `yaml:"control_interval"`
	// ScrapeInterval between metric samples. Default 15s; must divide ControlInterval.
	ScrapeInterval time.Duration `yaml:"scrape_interval"`
	// SLO requests are judged against.
	SLO SLO `yaml:"slo"`
	// CostPerReplicaHour is what one replica costs per hour, from the moment it is
	// requested until it is Gone. Default 1 (so cost reads as replica-hours).
	CostPerReplicaHour float64 `yaml:"cost_per_replica_hour"`
}
