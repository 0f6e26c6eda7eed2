package live

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/sim"
)

// Policy decides a replica count from inputs read from Prometheus: one PromQL
// expression per input, each answering a single number.
type Policy interface {
	// Queries returns the PromQL expressions, one per input, in input order.
	Queries() []string
	// Decide returns the desired replica count given the inputs (in Queries order) and
	// the current count (ready plus provisioning replicas). The controller clamps it.
	Decide(inputs []float64, current int) (desired int, err error)
}

// OptionalInputs is implemented by a Policy some of whose inputs may legitimately be NaN
// or missing (read as NaN), for example a latency quantile when nothing completed. Any
// other input that is missing, NaN or infinite makes the controller hold.
type OptionalInputs interface {
	Optional(i int) bool
}

// FeaturePolicy is a learned policy: an action chosen from feature values, each action
// a replica delta. It is the form an exported policy takes in the controller.
type FeaturePolicy struct {
	// Features are the PromQL expressions of the policy's inputs, in order.
	Features []string
	// Deltas[a] is the change in replicas that action a asks for.
	Deltas []int
	// Act returns the action for the features.
	Act func(features []float64) int
}

// NewFeaturePolicy checks that features and deltas match the input and output
// dimensions of the function act was exported with.
func NewFeaturePolicy(features []string, deltas []int, inputDim, actions int, act func([]float64) int) (*FeaturePolicy, error) {
	switch {
	case act == nil:
		return nil, errors.New("policy: no action function")
	case len(features) != inputDim:
		return nil, fmt.Errorf("policy: %d feature expressions but the network takes %d inputs", len(features), inputDim)
	case len(deltas) != actions:
		return nil, fmt.Errorf("policy: %d action deltas but the network has %d actions", len(deltas), actions)
	case len(features) == 0 || len(deltas) == 0:
		return nil, errors.New("policy: no features or no actions")
	}
	return &FeaturePolicy{Features: features, Deltas: deltas, Act: act}, nil
}

// Queries returns the feature expressions.
func (p *FeaturePolicy) Queries() []string { return p.Features }

// Decide applies the delta of the chosen action to current.
func (p *FeaturePolicy) Decide(inputs []float64, current int) (int, error) {
	a := p.Act(inputs)
	if a < 0 || a >= len(p.Deltas) {
		return current, fmt.Errorf("policy: action %d outside [0, %d)", a, len(p.Deltas))
	}
	return current + p.Deltas[a], nil
}

// Inputs of AutoscalerPolicy, in Queries order.
const (
	InArrivalRate = iota
	InCompleted
	InDropped
	InP50
	InP95
	InP99
	InSLOViolations
	InUtilisation
	InInFlight
	InQueued
	InReady
	InProvisioning
	InDraining
	InDesired
	numObservationInputs
)

// ObservationQueries returns the PromQL expression of each sim.Observation field, in
// the In* order, over a window (the control interval) with the SLO latency slo. The
// expressions read the metrics the simulator records (see sim.Scrape).
func ObservationQueries(window, slo time.Duration) []string {
	w := model.Duration(window).String()
	le := fmt.Sprint(slo.Seconds())
	q := make([]string, numObservationInputs)
	dropped := `sum(increase(http_requests_total{code=~"503|504"}[` + w + `]))`
	q[InArrivalRate] = `sum(rate(http_requests_total[` + w + `]))`
	q[InCompleted] = `sum(increase(http_requests_total{code="200"}[` + w + `]))`
	q[InDropped] = dropped
	for i, p := range map[int]string{InP50: "0.5", InP95: "0.95", InP99: "0.99"} {
		q[i] = `histogram_quantile(` + p + `, sum by (le) (rate(http_request_duration_seconds_bucket[` + w + `])))`
	}
	q[InSLOViolations] = `sum(increase(http_request_duration_seconds_count[` + w + `])) - sum(increase(http_request_duration_seconds_bucket{le="` + le + `"}[` + w + `])) + ` + dropped
	q[InUtilisation] = `clamp_max(sum(rate(app_worker_busy_seconds_total[` + w + `])) / sum(avg_over_time(app_worker_slots[` + w + `])), 1)`
	q[InInFlight] = `sum(http_requests_in_flight)`
	q[InQueued] = `sum(http_requests_queued)`
	q[InReady] = `sum(intelliscale_replicas{state="ready"})`
	q[InProvisioning] = `sum(intelliscale_replicas{state="provisioning"})`
	q[InDraining] = `sum(intelliscale_replicas{state="draining"})`
	q[InDesired] = `sum(intelliscale_desired_replicas)`
	return q
}

// AutoscalerPolicy runs a simulator autoscaler (a rule-based policy) live: it builds a
// sim.Observation from the ObservationQueries and asks the autoscaler.
type AutoscalerPolicy struct {
	Autoscaler sim.Autoscaler
	// Window is the control interval the counts cover.
	Window time.Duration
	// Min and Max are passed to the autoscaler as the bounds it will be clamped to.
	Min, Max int
	queries  []string
}

// NewAutoscalerPolicy adapts a to Policy.
func NewAutoscalerPolicy(a sim.Autoscaler, window, slo time.Duration, min, max int) *AutoscalerPolicy {
	return &AutoscalerPolicy{Autoscaler: a, Window: window, Min: min, Max: max, queries: ObservationQueries(window, slo)}
}

// Queries returns ObservationQueries.
func (p *AutoscalerPolicy) Queries() []string { return p.queries }

// Optional: the latency quantiles are NaN when nothing completed, as in simulation.
func (p *AutoscalerPolicy) Optional(i int) bool { return i == InP50 || i == InP95 || i == InP99 }

// Observation builds the observation the autoscaler sees from inputs.
func (p *AutoscalerPolicy) Observation(in []float64, current int) (sim.Observation, error) {
	if len(in) != numObservationInputs {
		return sim.Observation{}, fmt.Errorf("policy: %d inputs, want %d", len(in), numObservationInputs)
	}
	count := func(v float64) int { return int(math.Round(v)) }
	return sim.Observation{
		Window:        p.Window,
		Arrivals:      count(in[InArrivalRate] * p.Window.Seconds()),
		Completed:     count(in[InCompleted]),
		Dropped:       count(in[InDropped]),
		ArrivalRate:   in[InArrivalRate],
		LatencyP50:    in[InP50],
		LatencyP95:    in[InP95],
		LatencyP99:    in[InP99],
		SLOViolations: count(in[InSLOViolations]),
		Utilisation:   in[InUtilisation],
		InFlight:      count(in[InInFlight]),
		Queued:        count(in[InQueued]),
		Ready:         count(in[InReady]),
		Provisioning:  count(in[InProvisioning]),
		Draining:      count(in[InDraining]),
		Desired:       current,
		MinReplicas:   p.Min,
		MaxReplicas:   p.Max,
	}, nil
}

// Decide asks the autoscaler.
func (p *AutoscalerPolicy) Decide(in []float64, current int) (int, error) {
	obs, err := p.Observation(in, current)
	if err != nil {
		return current, err
	}
	return p.Autoscaler.Decide(obs), nil
}

// Threshold is a small built-in rule: add Step replicas when utilisation is above Up,
// remove Step when it is below Down, else hold.
type Threshold struct {
	// Up is the utilisation above which it scales up. Default 0.7.
	Up float64 `yaml:"up"`
	// Down is the utilisation below which it scales down. Default 0.3.
	Down float64 `yaml:"down"`
	// Step is the replicas added or removed per decision. Default 1.
	Step int `yaml:"step"`
}

// Validate fills defaults and rejects bad combinations.
func (t *Threshold) Validate() error {
	if t.Up == 0 {
		t.Up = 0.7
	}
	if t.Down == 0 {
		t.Down = 0.3
	}
	if t.Step == 0 {
		t.Step = 1
	}
	if !(t.Down >= 0 && t.Down < t.Up && t.Up <= 1) || t.Step < 0 {
		return fmt.Errorf("threshold: down %v, up %v, step %d: need 0 <= down < up <= 1 and step > 0", t.Down, t.Up, t.Step)
	}
	return nil
}

// Decide implements sim.Autoscaler.
func (t *Threshold) Decide(o sim.Observation) int {
	switch {
	case o.Utilisation > t.Up:
		return o.Desired + t.Step
	case o.Utilisation < t.Down:
		return o.Desired - t.Step
	}
	return o.Desired
}

// RulePolicies are the rule-based autoscalers the controller can run by name, each
// built from its YAML parameters (nil for defaults). More are added by the command that
// wires the agents package in.
var RulePolicies = map[string]func(params *yaml.Node) (sim.Autoscaler, error){
	"threshold": func(params *yaml.Node) (sim.Autoscaler, error) {
		t := &Threshold{}
		if err := decodeStrict(params, t); err != nil {
			return nil, fmt.Errorf("threshold params: %w", err)
		}
		return t, t.Validate()
	},
}

// PolicyContext is what a policy is built against.
type PolicyContext struct {
	// Window is the control interval; SLO the latency objective.
	Window, SLO time.Duration
	// Min and Max replicas.
	Min, Max int
}

// PolicyFileKinds decode the policy files the controller accepts, by their kind field.
// A learned-policy loader registers itself here.
var PolicyFileKinds = map[string]func(spec *yaml.Node, pc PolicyContext) (Policy, error){}

// policyFile is the envelope of a policy file.
type policyFile struct {
	// Kind selects the decoder: a name in RulePolicies, or one in PolicyFileKinds.
	Kind string `yaml:"kind"`
	// Params are the kind's own settings.
	Params yaml.Node `yaml:"params"`
}

// NewRulePolicy builds the rule-based policy name with params (nil: defaults).
func NewRulePolicy(name string, params *yaml.Node, pc PolicyContext) (Policy, error) {
	mk, ok := RulePolicies[name]
	if !ok {
		return nil, fmt.Errorf("policy %q: unknown rule (have %s)", name, strings.Join(sortedKeys(RulePolicies), ", "))
	}
	a, err := mk(params)
	if err != nil {
		return nil, fmt.Errorf("policy %q: %w", name, err)
	}
	return NewAutoscalerPolicy(a, pc.Window, pc.SLO, pc.Min, pc.Max), nil
}

// LoadPolicyFile reads a policy file: YAML with a kind and params.
func LoadPolicyFile(path string, pc PolicyContext) (Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	var f policyFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	var params *yaml.Node
	if f.Params.Kind != 0 {
		params = &f.Params
	}
	if mk, ok := PolicyFileKinds[f.Kind]; ok {
		p, err := mk(params, pc)
		if err != nil {
			return nil, fmt.Errorf("policy file %s: %w", path, err)
		}
		return p, nil
	}
	if _, ok := RulePolicies[f.Kind]; ok {
		p, err := NewRulePolicy(f.Kind, params, pc)
		if err != nil {
			return nil, fmt.Errorf("policy file %s: %w", path, err)
		}
		return p, nil
	}
	kinds := append(sortedKeys(RulePolicies), sortedKeys(PolicyFileKinds)...)
	return nil, fmt.Errorf("policy file %s: kind %q: unknown (have %s)", path, f.Kind, strings.Join(kinds, ", "))
}

func decodeStrict(n *yaml.Node, v any) error {
	if n == nil {
		return nil
	}
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
