package sim

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
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

// Config describes one simulated service. An unset field means its default: a zero
// value, or nil for the fields where zero is a meaningful setting (MinReplicas,
// QueueCapacity). Validate fills defaults and rejects bad values and combinations in
// one place; the bounds below keep a typo from crashing or exhausting the machine.
type Config struct {
	// Seed of the run's random source; the same seed gives the same bytes out.
	Seed uint64 `yaml:"seed"`
	// ServiceTime of one request on one worker slot, mean in [1µs, 1h]. Default
	// exponential, mean 0.1 s.
	ServiceTime Dist `yaml:"service_time"`
	// Timeout per request from its arrival, in [1ms, 10000h]; a request not finished by
	// then is dropped. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// QueueCapacity is the number of requests a replica holds waiting for a slot, in
	// [0, 2^30]; an arrival finding it full is dropped. 0 is a zero-length queue
	// (an arrival finding every slot busy is dropped). Default (nil) 100.
	QueueCapacity *int `yaml:"queue_capacity,omitempty"`
	// Concurrency is the number of worker slots per replica, in [1, 10000]. Default 4.
	Concurrency int `yaml:"concurrency"`
	// StartupDelay from the request for a replica until it is Ready, mean at most 24h.
	// Default constant 30 s.
	StartupDelay Dist `yaml:"startup_delay"`
	// DrainGrace is how long a Draining replica may finish in-flight work before it is
	// Gone, at most 10000h; requests still running then are dropped. Default 30s.
	DrainGrace time.Duration `yaml:"drain_grace"`
	// MinReplicas and MaxReplicas bound the replica count: 0 <= MinReplicas <=
	// MaxReplicas <= 10000, MaxReplicas >= 1. MinReplicas 0 allows scaling to zero
	// (requests arriving with no Ready replica are dropped). Defaults (nil, 0) 1 and 50.
	MinReplicas *int `yaml:"min_replicas,omitempty"`
	MaxReplicas int  `yaml:"max_replicas"`
	// InitialReplicas are Ready at time zero, in [MinReplicas, MaxReplicas]. Default
	// (0) MinReplicas.
	InitialReplicas int `yaml:"initial_replicas"`
	// Balancer is least-outstanding (default), round-robin or random.
	Balancer string `yaml:"balancer"`
	// ControlInterval between autoscaler decisions, in [100ms, 1h]. Default 15s.
	ControlInterval time.Duration `yaml:"control_interval"`
	// ScrapeInterval between metric samples, at least 100ms; it must divide
	// ControlInterval. Default 15s when that divides ControlInterval, else
	// ControlInterval.
	ScrapeInterval time.Duration `yaml:"scrape_interval"`
	// SLO requests are judged against.
	SLO SLO `yaml:"slo"`
	// CostPerReplicaHour is what one replica costs per hour, from the moment it is
	// requested until it is Gone, in (0, 1e6]. Default 1 (so cost reads as
	// replica-hours).
	CostPerReplicaHour float64 `yaml:"cost_per_replica_hour"`
	// Interrupt, when set, is polled at the start of every Step and every
	// InterruptEvery events inside it; once it returns true the run stops where it
	// is (Step reports done, Err returns ErrInterrupted, Run fails with it). It is how
	// a caller stops a long step promptly (on Ctrl-C, say) without the simulator
	// reading a clock or a signal itself. Not read from YAML.
	Interrupt func() bool `yaml:"-" json:"-"`
	// Progress, when set, is called at the end of every Step with the virtual time
	// reached and the end of the trace, so that a caller can show how far a long run
	// is. The simulator does no I/O itself; Progress should return quickly. Not read
	// from YAML.
	Progress func(now, end time.Duration) `yaml:"-" json:"-"`
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

// Bounds of Config fields: far beyond any real service, they keep a typo from
// crashing the simulator or exhausting memory.
const (
	MinInterval      = 100 * time.Millisecond // control and scrape intervals
	MaxInterval      = time.Hour
	MaxReplicasLimit = 10_000
	MaxConcurrency   = 10_000
	MaxQueueCapacity = 1 << 30
	MaxTimeout       = 10_000 * time.Hour // timeout and drain grace
	// MaxSteps bounds the control intervals of one run (trace duration over the
	// control interval): 2^24, about 8 years at 15 s.
	MaxSteps = 1 << 24
)

// Validate fills every unset field with its default and rejects out-of-range values
// and bad combinations. Errors are *yamldoc.FieldError values naming the YAML path
// ("control_interval"), joined when there are several.
func (c *Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.ServiceTime.isZero() {
		c.ServiceTime = Dist{Kind: Exponential, Mean: DefaultServiceMean}
	}
	if err := c.ServiceTime.Validate("service_time"); err != nil {
		add(err)
	} else {
		add(yamldoc.InRange("service_time.mean", c.ServiceTime.MeanSeconds(), 1e-6, 3600))
	}
	if c.StartupDelay.isZero() {
		c.StartupDelay = Dist{Kind: Constant, Mean: DefaultStartupDelay}
	}
	if err := c.StartupDelay.Validate("startup_delay"); err != nil {
		add(err)
	} else {
		add(yamldoc.InRange("startup_delay.mean", c.StartupDelay.MeanSeconds(), 0, 86400))
	}
	def(&c.Timeout, DefaultTimeout)
	add(yamldoc.InRange("timeout", c.Timeout, time.Millisecond, MaxTimeout))
	def(&c.DrainGrace, DefaultDrainGrace)
	add(yamldoc.InRange("drain_grace", c.DrainGrace, 0, MaxTimeout))
	if c.QueueCapacity == nil {
		c.QueueCapacity = new(DefaultQueueCapacity)
	}
	add(yamldoc.InRange("queue_capacity", *c.QueueCapacity, 0, MaxQueueCapacity))
	def(&c.Concurrency, DefaultConcurrency)
	add(yamldoc.InRange("concurrency", c.Concurrency, 1, MaxConcurrency))
	def(&c.MaxReplicas, DefaultMaxReplicas)
	if c.MinReplicas == nil {
		c.MinReplicas = new(min(DefaultMinReplicas, max(c.MaxReplicas, 0)))
	}
	if err := yamldoc.InRange("max_replicas", c.MaxReplicas, 1, MaxReplicasLimit); err != nil {
		add(err)
	} else if err := yamldoc.InRange("min_replicas", *c.MinReplicas, 0, c.MaxReplicas); err != nil {
		add(&yamldoc.FieldError{Path: "min_replicas", Value: *c.MinReplicas, Err: fmt.Errorf("must be in [0, max_replicas] = [0, %d]", c.MaxReplicas)})
	} else {
		if c.InitialReplicas == 0 {
			c.InitialReplicas = *c.MinReplicas
		}
		if c.InitialReplicas < *c.MinReplicas || c.InitialReplicas > c.MaxReplicas {
			add(yamldoc.Invalid("initial_replicas", c.InitialReplicas, fmt.Sprintf("must be in [min_replicas, max_replicas] = [%d, %d]", *c.MinReplicas, c.MaxReplicas)))
		}
	}
	switch c.Balancer {
	case "":
		c.Balancer = LeastOutstanding
	case LeastOutstanding, RoundRobin, Random:
	default:
		add(yamldoc.Invalid("balancer", c.Balancer, "must be one of least-outstanding, round-robin, random"))
	}
	def(&c.ControlInterval, DefaultControlInterval)
	if err := yamldoc.InRange("control_interval", c.ControlInterval, MinInterval, MaxInterval); err != nil {
		add(err)
	} else {
		if c.ScrapeInterval == 0 {
			c.ScrapeInterval = DefaultScrapeInterval
			if c.ControlInterval%DefaultScrapeInterval != 0 {
				c.ScrapeInterval = c.ControlInterval
			}
		}
		if err := yamldoc.InRange("scrape_interval", c.ScrapeInterval, MinInterval, c.ControlInterval); err != nil {
			add(err)
		} else if c.ControlInterval%c.ScrapeInterval != 0 {
			add(yamldoc.Invalid("scrape_interval", c.ScrapeInterval, fmt.Sprintf("must divide control_interval (%s)", yamldoc.Duration(c.ControlInterval))))
		}
	}
	def(&c.SLO.Latency, DefaultSLOLatency)
	add(yamldoc.InRange("slo.latency", c.SLO.Latency, time.Millisecond, time.Hour))
	def(&c.SLO.Target, DefaultSLOTarget)
	if !(c.SLO.Target > 0 && c.SLO.Target <= 1) {
		add(yamldoc.Invalid("slo.target", c.SLO.Target, "must be in (0, 1]"))
	}
	def(&c.CostPerReplicaHour, DefaultCostPerReplicaHour)
	if !(c.CostPerReplicaHour > 0) || math.IsInf(c.CostPerReplicaHour, 0) || c.CostPerReplicaHour > 1e6 {
		add(yamldoc.Invalid("cost_per_replica_hour", c.CostPerReplicaHour, "must be finite and in (0, 1e6]"))
	}
	return errors.Join(errs...)
}

// def sets an unset (zero) field to its default.
func def[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Min is the validated MinReplicas (DefaultMinReplicas when unset).
func (c *Config) Min() int {
	if c.MinReplicas == nil {
		return DefaultMinReplicas
	}
	return *c.MinReplicas
}

// Queue is the validated QueueCapacity (DefaultQueueCapacity when unset).
func (c *Config) Queue() int {
	if c.QueueCapacity == nil {
		return DefaultQueueCapacity
	}
	return *c.QueueCapacity
}

// QueueModel is the queueing model (elasticity.Queue) of the service c describes,
// the one every demand estimate, tail and policy derives from (c validated).
func (c *Config) QueueModel() elasticity.Queue {
	return elasticity.Queue{
		ServiceMean: c.ServiceTime.MeanSeconds(),
		ServiceSCV:  c.ServiceTime.SCV(),
		Slots:       c.Concurrency,
		SLOLatency:  c.SLO.Latency.Seconds(),
		SLOTarget:   c.SLO.Target,
		MaxReplicas: c.MaxReplicas,
	}
}

// Capped is what the replica limit does to a trace of per-interval arrival rates: how
// many of them need more than MaxReplicas replicas to meet the SLO, and the most
// any of them needs (counted up to limit replicas; the service time alone missing
// the SLO counts as limit). Zero intervals means MaxReplicas is enough (c
// validated).
func (c *Config) Capped(rates []float64, limit int) (intervals, peak int) {
	q := c.QueueModel()
	q.MaxReplicas = c.MaxReplicas + 1
	top := 0.0
	for _, r := range rates {
		if elasticity.Demand(q, r) > c.MaxReplicas {
			intervals++
			top = max(top, r)
		}
	}
	if intervals == 0 {
		return 0, 0
	}
	q.MaxReplicas = max(limit, c.MaxReplicas+1)
	return intervals, elasticity.Demand(q, top)
}

// ServiceTail is the share of requests whose service time alone exceeds the SLO
// latency, in the queueing model of c (c validated): no replica count, however
// large, brings the SLO violations below it.
func (c *Config) ServiceTail() float64 {
	return elasticity.ResponseTail(c.QueueModel(), 1, 0, c.SLO.Latency.Seconds())
}

// UnattainableSLO says when no replica count can meet the SLO, the service time
// alone exceeding the SLO latency for more than 1 - target of requests, and ""
// otherwise (c validated). Capped then counts every interval with traffic, but
// max_replicas is not the cause: the SLO or the service time is.
func (c *Config) UnattainableSLO() string {
	tail := c.ServiceTail()
	if !(tail > 1-c.SLO.Target) {
		return ""
	}
	lat := yamldoc.Duration(c.SLO.Latency)
	share := fmt.Sprintf("%.2g%%", 100*tail) // 0.67%
	if tail >= 0.1 {
		share = fmt.Sprintf("%.0f%%", 100*tail) // 37%, not 3.7e+01%
	}
	return fmt.Sprintf("the SLO (%.6g%% within %s) cannot be met at any replica count: %s of service times alone exceed %s",
		100*c.SLO.Target, lat, share, lat)
}

// CappedLimit is the replica count Capped's callers count a peak up to.
const CappedLimit = 1 << 16

// CappedNeed says how many replicas a peak of Capped counted up to CappedLimit
// is: "up to N", or "more than CappedLimit".
func CappedNeed(peak int) string {
	if peak >= CappedLimit {
		return fmt.Sprintf("more than %d", CappedLimit)
	}
	return fmt.Sprintf("up to %d", peak)
}

// ReadyFor is the replica count a run starting at rate (requests/s) opens with Ready
// when it starts warm: the demand of that rate within the replica limits (c
// validated).
func (c *Config) ReadyFor(rate float64) int {
	return min(max(elasticity.Demand(c.QueueModel(), rate), c.Min()), c.MaxReplicas)
}

// DecodeConfig reads a Config from YAML strictly (unknown keys are errors) and
// validates it; errors name file (a file name for messages), line and field.
// Durations are written as Go durations ("15s", "500ms").
func DecodeConfig(r io.Reader, file string) (Config, error) {
	var c Config
	if err := yamldoc.LoadReader(r, file, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}
