package sim

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"gopkg.in/yaml.v3"
)

// Balancer names accepted in Config.Balancer.
const (
	LeastOutstanding = "least-outstanding"
	RoundRobin       = "round-robin"
	Random           = "random"
)

// Dist is a distribution of non-negative durations, in seconds. It is decoded from
// YAML as, for example, {kind: lognormal, mean: 0.1, cv: 1.5}. The zero Dist means
// "the default of the field it sits in".
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
	// ScrapeInterval between metric samples. Default 15s when that divides
	// ControlInterval, else ControlInterval; must divide ControlInterval.
	ScrapeInterval time.Duration `yaml:"scrape_interval"`
	// SLO requests are judged against.
	SLO SLO `yaml:"slo"`
	// CostPerReplicaHour is what one replica costs per hour, from the moment it is
	// requested until it is Gone. Default 1 (so cost reads as replica-hours).
	CostPerReplicaHour float64 `yaml:"cost_per_replica_hour"`
	// Interrupt, when set, is polled at the start of every Step and every
	// InterruptEvery events inside it; once it returns true the run stops where it
	// is (Step reports done, Err returns ErrInterrupted, Run fails with it). It is how
	// a caller stops a long step promptly (on Ctrl-C, say) without the simulator
	// reading a clock or a signal itself. Not read from YAML.
	Interrupt func() bool `yaml:"-" json:"-"`
}

// ConfigError is a configuration value Validate rejects. Field is the YAML path of
// the field (for example "service_time.mean").
type ConfigError struct {
	Field  string
	Value  any
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("sim: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("sim: %s: %v: %s", e.Field, e.Value, e.Reason)
}

func cfgErr(field string, value any, reason string) error {
	return &ConfigError{Field: field, Value: value, Reason: reason}
}

// Defaults of Config fields; see the field docs.
const (
	DefaultServiceMean        = 0.1 // seconds, exponential
	DefaultTimeout            = 10 * time.Second
	DefaultQueueCapacity      = 100
	DefaultConcurrency        = 4
	DefaultStartupDelay       = 30.0 // seconds, constant
	DefaultDrainGrace         = 30 * time.Second
	DefaultMinReplicas        = 1
	DefaultMaxReplicas        = 50
	DefaultControlInterval    = 15 * time.Second
	DefaultScrapeInterval     = 15 * time.Second
	DefaultSLOLatency         = 500 * time.Millisecond
	DefaultSLOTarget          = 0.95
	DefaultCostPerReplicaHour = 1.0
)

// Validate returns c with every zero field set to its default, or the first reason c
// cannot describe a service, as a *ConfigError naming the YAML field.
func (c Config) Validate() (Config, error) {
	if c.ServiceTime.isZero() {
		c.ServiceTime = Dist{Kind: Exponential, Mean: DefaultServiceMean}
	}
	if err := c.ServiceTime.Validate("service_time"); err != nil {
		return c, err
	}
	if c.ServiceTime.MeanSeconds() <= 0 {
		return c, cfgErr("service_time.mean", c.ServiceTime.MeanSeconds(), "must be > 0")
	}
	if c.StartupDelay.isZero() {
		c.StartupDelay = Dist{Kind: Constant, Mean: DefaultStartupDelay}
	}
	if err := c.StartupDelay.Validate("startup_delay"); err != nil {
		return c, err
	}
	if err := defDuration(&c.Timeout, "timeout", DefaultTimeout); err != nil {
		return c, err
	}
	if err := defDuration(&c.DrainGrace, "drain_grace", DefaultDrainGrace); err != nil {
		return c, err
	}
	if err := defInt(&c.QueueCapacity, "queue_capacity", DefaultQueueCapacity); err != nil {
		return c, err
	}
	if err := defInt(&c.Concurrency, "concurrency", DefaultConcurrency); err != nil {
		return c, err
	}
	if err := defInt(&c.MinReplicas, "min_replicas", DefaultMinReplicas); err != nil {
		return c, err
	}
	if err := defInt(&c.MaxReplicas, "max_replicas", DefaultMaxReplicas); err != nil {
		return c, err
	}
	if c.MinReplicas > c.MaxReplicas {
		return c, cfgErr("min_replicas", c.MinReplicas, fmt.Sprintf("must be <= max_replicas (%d)", c.MaxReplicas))
	}
	if c.InitialReplicas == 0 {
		c.InitialReplicas = c.MinReplicas
	}
	if c.InitialReplicas < c.MinReplicas || c.InitialReplicas > c.MaxReplicas {
		return c, cfgErr("initial_replicas", c.InitialReplicas, fmt.Sprintf("must be in [min_replicas, max_replicas] = [%d, %d]", c.MinReplicas, c.MaxReplicas))
	}
	switch c.Balancer {
	case "":
		c.Balancer = LeastOutstanding
	case LeastOutstanding, RoundRobin, Random:
	default:
		return c, cfgErr("balancer", fmt.Sprintf("%q", c.Balancer), "must be one of least-outstanding, round-robin, random")
	}
	if err := defDuration(&c.ControlInterval, "control_interval", DefaultControlInterval); err != nil {
		return c, err
	}
	if c.ScrapeInterval == 0 {
		c.ScrapeInterval = DefaultScrapeInterval
		if c.ControlInterval%DefaultScrapeInterval != 0 {
			c.ScrapeInterval = c.ControlInterval
		}
	}
	if c.ScrapeInterval < 0 {
		return c, cfgErr("scrape_interval", c.ScrapeInterval, "must be > 0")
	}
	if c.ControlInterval%c.ScrapeInterval != 0 {
		return c, cfgErr("scrape_interval", c.ScrapeInterval, fmt.Sprintf("must divide control_interval (%v)", c.ControlInterval))
	}
	if err := defDuration(&c.SLO.Latency, "slo.latency", DefaultSLOLatency); err != nil {
		return c, err
	}
	if c.SLO.Target == 0 {
		c.SLO.Target = DefaultSLOTarget
	}
	if !(c.SLO.Target > 0 && c.SLO.Target <= 1) {
		return c, cfgErr("slo.target", c.SLO.Target, "must be in (0, 1]")
	}
	if c.CostPerReplicaHour == 0 {
		c.CostPerReplicaHour = DefaultCostPerReplicaHour
	}
	if !(c.CostPerReplicaHour > 0) || math.IsInf(c.CostPerReplicaHour, 0) {
		return c, cfgErr("cost_per_replica_hour", c.CostPerReplicaHour, "must be finite and > 0")
	}
	return c, nil
}

func defDuration(d *time.Duration, field string, def time.Duration) error {
	if *d == 0 {
		*d = def
	}
	if *d < 0 {
		return cfgErr(field, *d, "must be > 0")
	}
	return nil
}

func defInt(v *int, field string, def int) error {
	if *v == 0 {
		*v = def
	}
	if *v < 1 {
		return cfgErr(field, *v, "must be >= 1")
	}
	return nil
}

// DecodeConfig reads a Config from YAML, rejecting unknown keys, and validates it.
// Durations are written as Go durations ("15s", "500ms").
func DecodeConfig(r io.Reader) (Config, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("sim: decode config: %w", err)
	}
	return c.Validate()
}
