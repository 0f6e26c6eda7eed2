package live

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// Policy decides a replica count from inputs read from Prometheus: one PromQL
// expression per input, each answering a single number. A policy some of whose
// inputs may be missing or NaN says which with a method Optional(i int) bool.
type Policy interface {
	// Queries returns the PromQL expressions, one per input, in input order.
	Queries() []string
	// Decide returns the desired replica count at time at, given the inputs (in Queries
	// order) and the replicas read from the engine. The controller clamps it.
	Decide(at time.Time, inputs []float64, r Replicas) (desired int, err error)
}

// optionalInputs is implemented by a Policy some of whose inputs may legitimately be NaN,
// infinite or missing (a missing one is read as NaN), for example a latency quantile
// when nothing completed. Any other input that is missing, NaN or infinite makes the
// controller hold.
type optionalInputs interface {
	Optional(i int) bool
}

// Settings describe the live service and control loop a policy is built against.
type Settings struct {
	// Interval is the control interval, the window the observation's counts cover.
	Interval time.Duration
	// SLO is the latency objective; a histogram bucket bound for the rule policies'
	// SLO-violation count.
	SLO time.Duration
	// Min and Max replicas.
	Min, Max int
	// Slots are the worker slots per replica (the app's --slots).
	Slots int
	// ServiceMean is the app's mean service time (the app's --service-mean); the
	// policies that model the queue (kpa with no Ready replica, predictive) use it.
	ServiceMean time.Duration
	// StartupDelay is the mean time from creating a replica until it is Ready; the
	// predictive policy forecasts that far ahead.
	StartupDelay time.Duration
}

// SimConfig is the simulator configuration the rule policies are built with: the
// service the settings describe, every other field at its default (service times
// exponential, SLO target 0.95). A Min of 0 (scale to zero) is kept.
func (s Settings) SimConfig() (sim.Config, error) {
	c := sim.Config{
		ServiceTime:     sim.Dist{Kind: sim.Exponential, Mean: s.ServiceMean.Seconds()},
		Concurrency:     s.Slots,
		StartupDelay:    sim.Dist{Kind: sim.Constant, Mean: s.StartupDelay.Seconds()},
		MinReplicas:     new(s.Min),
		MaxReplicas:     s.Max,
		ControlInterval: s.Interval,
		SLO:             sim.SLO{Latency: s.SLO},
	}
	return c, c.Validate()
}

// Inputs of autoscalerPolicy, in Queries order.
const (
	inArrivalRate = iota
	inCompleted
	inDropped
	inP50
	inP95
	inP99
	inSLOViolations
	inUtilisation
	inBusySlots
	inInFlight
	inQueued
	numObservationInputs
)

// observationQueries returns the PromQL expression of each sim.Observation field read
// from Prometheus, in the In* order, over a window (the control interval) with the
// SLO latency slo. The expressions read the metrics the simulator records (see
// sim.Scrape). The replica counts come from the engine, not from Prometheus.
func observationQueries(window, slo time.Duration) []string {
	w := model.Duration(window).String()
	// Prometheus 3 stores the le label in OpenMetrics float format ("1.0", not "1").
	le := labels.FormatOpenMetricsFloat(slo.Seconds())
	q := make([]string, numObservationInputs)
	dropped := `sum(increase(http_requests_total{code=~"503|504"}[` + w + `]))`
	busy := `sum(rate(app_worker_busy_seconds_total[` + w + `]))`
	q[inArrivalRate] = `sum(rate(http_requests_total[` + w + `]))`
	q[inCompleted] = `sum(increase(http_requests_total{code="200"}[` + w + `]))`
	q[inDropped] = dropped
	for i, p := range map[int]string{inP50: "0.5", inP95: "0.95", inP99: "0.99"} {
		q[i] = `histogram_quantile(` + p + `, sum by (le) (rate(http_request_duration_seconds_bucket[` + w + `])))`
	}
	q[inSLOViolations] = `sum(increase(http_request_duration_seconds_count[` + w + `])) - sum(increase(http_request_duration_seconds_bucket{le="` + le + `"}[` + w + `])) + ` + dropped
	q[inUtilisation] = `clamp_max(` + busy + ` / sum(avg_over_time(app_worker_slots[` + w + `])), 1)`
	q[inBusySlots] = busy
	q[inInFlight] = `sum(http_requests_in_flight)`
	q[inQueued] = `sum(http_requests_queued)`
	return q
}

// autoscalerPolicy runs a simulator autoscaler (a rule-based policy) live: it builds a
// sim.Observation from the observationQueries and the engine's replica counts and asks
// the autoscaler.
type autoscalerPolicy struct {
	Autoscaler sim.Autoscaler
	settings   Settings
	queries    []string
	origin     time.Time // wall-clock time of observation time zero
}

// newAutoscalerPolicy adapts a to Policy.
func newAutoscalerPolicy(a sim.Autoscaler, s Settings) *autoscalerPolicy {
	return &autoscalerPolicy{Autoscaler: a, settings: s, queries: observationQueries(s.Interval, s.SLO)}
}

// Queries returns observationQueries.
func (p *autoscalerPolicy) Queries() []string { return p.queries }

// Optional: the latency quantiles are NaN when nothing completed, as in simulation.
func (p *autoscalerPolicy) Optional(i int) bool { return i == inP50 || i == inP95 || i == inP99 }

// Observation builds the observation the autoscaler sees at time at. Its Time counts
// from one interval before the first decision, so that the first live decision is
// like the simulator's second: it has a whole window behind it.
func (p *autoscalerPolicy) Observation(at time.Time, in []float64, r Replicas) (sim.Observation, error) {
	if len(in) != numObservationInputs {
		return sim.Observation{}, fmt.Errorf("policy: %d inputs, want %d", len(in), numObservationInputs)
	}
	if p.origin.IsZero() {
		p.origin = at.Add(-p.settings.Interval)
	}
	count := func(v float64) int { return int(math.Round(v)) }
	return sim.Observation{
		Time:          at.Sub(p.origin),
		Window:        p.settings.Interval,
		Arrivals:      count(in[inArrivalRate] * p.settings.Interval.Seconds()),
		Completed:     count(in[inCompleted]),
		Dropped:       count(in[inDropped]),
		ArrivalRate:   in[inArrivalRate],
		LatencyP50:    in[inP50],
		LatencyP95:    in[inP95],
		LatencyP99:    in[inP99],
		SLOViolations: count(in[inSLOViolations]),
		Utilisation:   in[inUtilisation],
		BusySlots:     in[inBusySlots],
		InFlight:      count(in[inInFlight]),
		Queued:        count(in[inQueued]),
		Ready:         r.Ready,
		Provisioning:  r.Provisioning,
		Draining:      r.Draining,
		Desired:       r.Current(),
		Slots:         p.settings.Slots,
		MinReplicas:   p.settings.Min,
		MaxReplicas:   p.settings.Max,
	}, nil
}

// Decide asks the autoscaler.
func (p *autoscalerPolicy) Decide(at time.Time, in []float64, r Replicas) (int, error) {
	obs, err := p.Observation(at, in, r)
	if err != nil {
		return r.Current(), err
	}
	return p.Autoscaler.Decide(obs), nil
}

// RuleNames are the rule-based policies the controller runs: every agents policy but
// the oracle, which needs the future of the trace.
func RuleNames() []string {
	return slices.DeleteFunc(agents.Names(), func(n string) bool { return n == "oracle" })
}

// NewRulePolicy builds the agents policy name with params (nil: defaults) for the
// service s describes, as a Policy that feeds it the simulator's observation.
func NewRulePolicy(name string, params *yaml.Node, s Settings) (Policy, error) {
	if name == "oracle" {
		return nil, fmt.Errorf("policy %q: it reads the future of the trace, which a live service does not have (have %s)", name, strings.Join(RuleNames(), ", "))
	}
	if !slices.Contains(RuleNames(), name) {
		return nil, fmt.Errorf("policy %q: unknown (have %s)", name, strings.Join(RuleNames(), ", "))
	}
	if !slices.Contains(sim.DefBuckets[:], s.SLO.Seconds()) {
		return nil, fmt.Errorf("policy %q: SLO latency %v: must be a bound of the response-time histogram's buckets %v s, or the SLO-violation count has no series", name, s.SLO, sim.DefBuckets)
	}
	cfg, err := s.SimConfig()
	if err != nil {
		return nil, fmt.Errorf("policy %q: %w", name, err)
	}
	a, err := agents.New(name, params, agents.Context{Sim: cfg})
	if err != nil {
		return nil, &ParamsError{Policy: name, Err: err}
	}
	return newAutoscalerPolicy(a, s), nil
}

// ParamsError is a rule policy's refusal of its parameters (an unknown key, a value
// out of range), so that a caller can name where they came from (the controller's
// --params).
type ParamsError struct {
	// Policy is the rule's name.
	Policy string
	Err    error
}

func (e *ParamsError) Error() string { return fmt.Sprintf("policy %q: params: %v", e.Policy, e.Err) }

func (e *ParamsError) Unwrap() error { return e.Err }

// ParseParams parses inline YAML parameters (for example `{cooldown_down: 10s}`); an
// empty string means none (nil: every parameter at its default). It is
// yamldoc.ParseInline, the one parser of inline parameters.
func ParseParams(s string) (*yaml.Node, error) { return yamldoc.ParseInline(s) }

// FeaturePolicy runs an exported learned policy live: its inputs are the features'
// PromQL expressions; each value goes through the feature's training-time transform
// (features.Feature.Transform: Fill for no sample or NaN, divided by Scale, clipped),
// the policy picks an action, and the desired count is the current one plus that
// action's replica change. This is env.PolicyAutoscaler's rule, with Prometheus in
// place of the native evaluator.
type FeaturePolicy struct {
	// Policy is the exported policy.
	Policy  *policy.Policy
	queries []string
	obs     []float64
	act     *env.Actuator
}

// newFeaturePolicy adapts an exported policy (validated by policy.Load or Read).
func newFeaturePolicy(p *policy.Policy) (*FeaturePolicy, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	act, err := p.Actuator()
	if err != nil {
		return nil, err
	}
	fp := &FeaturePolicy{Policy: p, obs: make([]float64, len(p.Features.Features)), act: act}
	for _, f := range p.Features.Features {
		fp.queries = append(fp.queries, f.Expr)
	}
	return fp, nil
}

// LoadPolicyFile loads the exported policy at path (policy.Load validates every field,
// dimension and the checksum) and checks it against s (checkTraining). Errors name
// the file; warnings are differences that do not prevent running it.
func LoadPolicyFile(path string, s Settings) (fp *FeaturePolicy, warnings []string, err error) {
	return LoadPolicyFileDeploy(path, s, nil)
}

// LoadPolicyFileDeploy is LoadPolicyFile with deploy-time parameters (policy.Deploy,
// for example `{headroom_scale: 0.8}`; nil: none) applied to the policy, as `sim
// --policy-file --params` and an experiment apply them. Errors in them name the
// file and "params".
func LoadPolicyFileDeploy(path string, s Settings, params *yaml.Node) (fp *FeaturePolicy, warnings []string, err error) {
	p, err := policy.Load(path)
	if err != nil {
		return nil, nil, fmt.Errorf("policy file %w", err)
	}
	if err := policy.ApplyParams(p, params); err != nil {
		return nil, nil, fmt.Errorf("policy file %s: params: %w", path, err)
	}
	if warnings, err = checkTraining(p, s); err != nil {
		return nil, nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	fp, err = newFeaturePolicy(p)
	if err != nil {
		return nil, nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	return fp, warnings, nil
}

// maxIntervalMismatch is the largest relative difference between the control interval
// a policy was trained at and the live one that checkTraining accepts (with a
// warning): beyond it the policy's replica changes would come at another pace than
// the one it learned.
const maxIntervalMismatch = 0.1

// checkTraining compares a policy's training settings with the live ones. A control
// interval more than maxIntervalMismatch away from the trained one is an error (a zero
// s.Interval means the policy's own); any other difference (a smaller interval
// mismatch, worker slots, SLO latency, a replica range wider than trained) is a
// warning. The features themselves carry the trained SLO and windows.
func checkTraining(p *policy.Policy, s Settings) (warnings []string, err error) {
	trained := p.Sim.ControlIntervalSeconds
	if s.Interval != 0 {
		live := s.Interval.Seconds()
		switch d := math.Abs(live-trained) / trained; {
		case d > maxIntervalMismatch:
			return nil, fmt.Errorf("trained at a control interval of %gs, live interval %v differs by %.0f%% (more than %.0f%%): its replica changes would come at another pace; run with --interval %gs, or 0 to take the policy's",
				trained, s.Interval, 100*d, 100*maxIntervalMismatch, trained)
		case d > 0:
			warnings = append(warnings, fmt.Sprintf("trained at a control interval of %gs, live %v", trained, s.Interval))
		}
	}
	if s.Slots != 0 && s.Slots != p.Sim.Concurrency {
		warnings = append(warnings, fmt.Sprintf("trained with %d worker slots per replica, live %d", p.Sim.Concurrency, s.Slots))
	}
	if s.SLO != 0 && math.Abs(s.SLO.Seconds()-p.Sim.SLOLatencySeconds) > 1e-9 {
		warnings = append(warnings, fmt.Sprintf("trained against an SLO latency of %gs, live %v (its features keep the trained one)", p.Sim.SLOLatencySeconds, s.SLO))
	}
	if s.Max > p.Sim.MaxReplicas || s.Min < p.Sim.MinReplicas {
		warnings = append(warnings, fmt.Sprintf("trained with replicas in [%d, %d], live [%d, %d]: counts it never saw", p.Sim.MinReplicas, p.Sim.MaxReplicas, s.Min, s.Max))
	}
	return warnings, nil
}

// Interval is the control interval the policy was trained at.
func (p *FeaturePolicy) Interval() time.Duration {
	return time.Duration(math.Round(p.Policy.Sim.ControlIntervalSeconds * float64(time.Second)))
}

// Queries returns the features' expressions.
func (p *FeaturePolicy) Queries() []string { return p.queries }

// Optional: every feature has its Fill for no sample or NaN, and its Transform for an
// infinity, as in training; stale metrics are caught by the controller's freshness
// check.
func (p *FeaturePolicy) Optional(int) bool { return true }

// Observation returns the transformed feature vector of the latest Decide.
func (p *FeaturePolicy) Observation() []float64 { return p.obs }

// Decide transforms the inputs (NaN standing for no sample) and applies the policy's
// action to the current count through its actuator (action mode and shield, as in
// training and in the simulator); the controller applies the replica bounds.
func (p *FeaturePolicy) Decide(now time.Time, in []float64, r Replicas) (int, error) {
	fs := p.Policy.Features.Features
	if len(in) != len(fs) {
		return r.Current(), fmt.Errorf("policy: %d inputs, want %d features", len(in), len(fs))
	}
	for i := range fs {
		p.obs[i] = fs[i].Transform(in[i], !math.IsNaN(in[i]))
	}
	a := p.Policy.Act(p.obs)
	if a < 0 && p.Policy.NonFinite() > 0 {
		// The controller holds the count on an error: a network that cannot
		// decide scales nothing.
		return r.Current(), errors.New("policy: the network's scores are not all finite for this observation: holding the replica count")
	}
	if a < 0 || a >= len(p.Policy.Actions) {
		return r.Current(), fmt.Errorf("policy: action %d outside [0, %d)", a, len(p.Policy.Actions))
	}
	return p.act.Desired(time.Duration(now.UnixNano()), r.Current(), a, p.obs, 0, 0), nil
}
