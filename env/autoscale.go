package env

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/sim/fluid"
	"github.com/intelliscale/intelliscale/traces"
)

// AutoscaleConfig configures the autoscaling environment. An unset field means its
// default: a zero value, or nil for the reward weights (where 0 is a meaningful
// weight); Validate fills them. AUTOSCALE.md describes the observation, actions,
// reward and episodes.
type AutoscaleConfig struct {
	// Sim is the simulated service. Its Seed and InitialReplicas are set per episode.
	Sim sim.Config `yaml:"sim"`
	// Traces are the training traces episodes are cut from (not read from YAML).
	Traces []*traces.Trace `yaml:"-"`
	// EpisodeLength is the sim time an episode's agent steps cover, from one control
	// interval to 30 days. Default 2h (480 steps at a 15 s control interval).
	EpisodeLength time.Duration `yaml:"episode_length" yamldoc:"nozero"`
	// Warmup runs before the first observation with the initial replica count, so
	// that the feature windows have history; at most 7 days. Default 10m; negative
	// means none.
	Warmup time.Duration `yaml:"warmup" yamldoc:"nozero" nozero:"for no warm-up, give a negative value (warmup: -1s)"`
	// Actions are the changes action i applies: replicas (action_mode delta), each
	// in [-max_replicas, max_replicas], or percent of the count in force (percent),
	// each in [-100, 10000]; at most 1000 of them. Default (unset) [-3, -2, -1, 0, 1,
	// 2, 3] for delta, [-30, -15, -5, 0, 10, 25, 50] for percent; an empty list is
	// an error.
	Actions []int `yaml:"actions"`
	// ActionMode is delta (Actions are replica changes) or percent (percent changes
	// of the count in force, rounded away from it: scale-free). Default delta.
	ActionMode string `yaml:"action_mode,omitempty"`
	// Shield bounds every decision (scale-down stabilisation window, largest step),
	// in training, in evaluation and live alike: it is saved in the policy. Default
	// off.
	Shield Shield `yaml:"shield,omitempty"`
	// ChurnWeight charges each replica started (an increase of the desired count)
	// its start-up delay at the cost term's price: the churn term is ChurnWeight *
	// started * mean start-up seconds / control-interval seconds / MaxReplicas, so 1
	// means a start costs what running the replica for its start-up delay costs.
	// Default 0 (off).
	ChurnWeight float64 `yaml:"churn_weight,omitempty"`
	// RateScale is the range a per-episode factor on the trace's rates is drawn from
	// uniformly, so that a policy does not memorise one trace: 0 < low <= high <= 1000.
	// Default [0.7, 1.3].
	RateScale [2]float64 `yaml:"rate_scale" yamldoc:"nozero"`
	// CostWeight weighs the cost term: mean billed replicas over the step divided by
	// MaxReplicas (so 1 means paying for the maximum). In [0, 1e6]; default (unset) 1.
	CostWeight *float64 `yaml:"cost_weight,omitempty"`
	// SLOWeight weighs the share of the step's arrivals that violated the SLO
	// (slower than SLO latency, or dropped). In [0, 1e6]; default (unset) 5.
	SLOWeight *float64 `yaml:"slo_weight,omitempty"`
	// DropWeight weighs the share of the step's arrivals that were dropped (on top of
	// their SLO violation). In [0, 1e6]; default (unset) 5.
	DropWeight *float64 `yaml:"drop_weight,omitempty"`
	// Features is the observation; default features.Default(Sim.SLO.Latency).
	Features features.Spec `yaml:"features"`
	// Hide names features computed for the actuator but given to the network as 0
	// (features.Feature.Hidden), for example [ready, provisioning]: an observation
	// without absolute replica counts, for one policy at 3 and at 300 replicas. Each
	// must be a feature of Features. Default: none.
	Hide []string `yaml:"hide,omitempty"`
	// Fidelity is the cluster model episodes run on: request (the discrete-event
	// simulator, sim) or fluid (the fluid model, sim/fluid: per-second rates,
	// capacity, backlog and queueing-theory latency; its cost does not grow with the
	// request rate, for training at 100+ replicas). Both emit the same scrapes, so the
	// features are computed alike. Default request.
	Fidelity string `yaml:"fidelity,omitempty"`
}

// Fidelities.
const (
	FidelityRequest = "request"
	FidelityFluid   = "fluid"
)

// cluster is what the environment needs of a cluster model: sim.Sim and fluid.Model.
type cluster interface {
	Step(desired int) (sim.Observation, bool)
	Now() time.Duration
	Totals() sim.Totals
	SetRecorder(r sim.Recorder)
	Err() error
}

// Defaults of the reward weights; see the field docs.
const (
	DefaultCostWeight = 1.0
	DefaultSLOWeight  = 5.0
	DefaultDropWeight = 5.0
)

// Validate fills defaults and rejects bad values, as *yamldoc.FieldError values with
// YAML paths ("sim.control_interval", "slo_weight"), joined.
func (c *AutoscaleConfig) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	simErr := c.Sim.Validate()
	add(yamldoc.Within("sim", simErr))
	if c.EpisodeLength == 0 {
		c.EpisodeLength = 2 * time.Hour
	}
	if simErr == nil {
		add(yamldoc.InRange("episode_length", c.EpisodeLength, c.Sim.ControlInterval, 30*24*time.Hour))
	}
	switch {
	case c.Warmup == 0:
		c.Warmup = 10 * time.Minute
	case c.Warmup < 0:
		c.Warmup = 0
	}
	add(yamldoc.InRange("warmup", c.Warmup, 0, 7*24*time.Hour))
	if c.ActionMode == "" {
		c.ActionMode = ActionDelta
	}
	switch {
	case c.Actions == nil:
		switch c.ActionMode {
		case ActionPercent:
			c.Actions = []int{-30, -15, -5, 0, 10, 25, 50}
		case ActionTarget, ActionForecast:
			c.Actions = []int{40, 50, 60, 70, 80, 90}
		default:
			c.Actions = []int{-3, -2, -1, 0, 1, 2, 3}
		}
	case len(c.Actions) == 0:
		add(yamldoc.Errorf("actions", "empty: list at least one replica change (or leave actions out for the default [-3, -2, -1, 0, 1, 2, 3])"))
	case len(c.Actions) > 1000:
		add(yamldoc.Errorf("actions", "%d actions: at most 1000", len(c.Actions)))
	}
	switch c.ActionMode {
	case ActionDelta:
		if simErr == nil {
			for i, a := range c.Actions {
				add(yamldoc.InRange(fmt.Sprintf("actions[%d]", i), a, -c.Sim.MaxReplicas, c.Sim.MaxReplicas))
			}
		}
	case ActionPercent:
		for i, a := range c.Actions {
			add(yamldoc.InRange(fmt.Sprintf("actions[%d]", i), a, -100, 10000))
		}
	case ActionTarget, ActionForecast:
		for i, a := range c.Actions {
			add(yamldoc.InRange(fmt.Sprintf("actions[%d]", i), a, 1, 100))
		}
	default:
		add(yamldoc.Invalid("action_mode", c.ActionMode, "want delta, percent, target or forecast"))
	}
	add(yamldoc.Within("shield", c.Shield.Validate()))
	add(yamldoc.InRange("churn_weight", c.ChurnWeight, 0, 1e6))
	if c.RateScale == [2]float64{} {
		c.RateScale = [2]float64{0.7, 1.3}
	}
	if !(c.RateScale[0] > 0) || !(c.RateScale[1] >= c.RateScale[0]) || !(c.RateScale[1] <= 1000) {
		add(yamldoc.Invalid("rate_scale", c.RateScale, "want 0 < low <= high <= 1000"))
	}
	for _, f := range []struct {
		name string
		w    **float64
		def  float64
	}{{"cost_weight", &c.CostWeight, DefaultCostWeight}, {"slo_weight", &c.SLOWeight, DefaultSLOWeight}, {"drop_weight", &c.DropWeight, DefaultDropWeight}} {
		if *f.w == nil {
			*f.w = new(f.def)
		}
		add(yamldoc.InRange(f.name, **f.w, 0, 1e6))
	}
	switch c.Fidelity {
	case "":
		c.Fidelity = FidelityRequest
	case FidelityRequest, FidelityFluid:
	default:
		add(yamldoc.Invalid("fidelity", c.Fidelity, "want request or fluid"))
	}
	if len(c.Features.Features) == 0 && simErr == nil {
		c.Features = features.Default(c.Sim.SLO.Latency.Seconds())
	}
	if simErr == nil {
		add(yamldoc.Within("features", c.Features.Validate()))
	}
	if len(c.Hide) > 0 {
		// A copy, so that a spec shared with another config keeps its features shown.
		c.Features.Features = slices.Clone(c.Features.Features)
	}
	for i, name := range c.Hide {
		j := slices.IndexFunc(c.Features.Features, func(f features.Feature) bool { return f.Name == name })
		if j < 0 {
			add(yamldoc.Invalid(fmt.Sprintf("hide[%d]", i), name, fmt.Sprintf("not a feature (%s)", strings.Join(c.Features.Names(), ", "))))
			continue
		}
		c.Features.Features[j].Hidden = true
	}
	if len(c.Traces) == 0 {
		add(yamldoc.Errorf("traces", "no traces (AutoscaleConfig.Traces)"))
	}
	for i, tr := range c.Traces {
		at := fmt.Sprintf("traces[%d]", i)
		if tr == nil {
			add(yamldoc.Errorf(at, "nil trace"))
			continue
		}
		if err := tr.Validate(); err != nil {
			add(yamldoc.Within(at, err))
			continue
		}
		if simErr == nil && tr.Duration() < c.Warmup+c.Sim.ControlInterval {
			add(yamldoc.Errorf(at, "%q: %s long, shorter than warmup %s plus one control interval", tr.Name, yamldoc.Duration(tr.Duration()), yamldoc.Duration(c.Warmup)))
		}
	}
	return errors.Join(errs...)
}

// defaultEpoch is the wall-clock time of a trace without a Start: midnight, so
// that time of day reads as the offset into the trace.
var defaultEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// TraceEpoch is the wall-clock time the features give to sim time zero of a run
// over tr: the trace's Start, or midnight of a fixed day when it has none.
func TraceEpoch(tr *traces.Trace) time.Time {
	if tr.Start.IsZero() {
		return defaultEpoch
	}
	return tr.Start
}

// Autoscale is the autoscaling environment: one step is one control interval of
// the simulator. The observation is cfg.Features evaluated natively on the
// simulator's scrapes; action i adds Actions[i] to the desired replica count
// (clamped to [MinReplicas, MaxReplicas]); the reward is
//
//	r = -(CostWeight·billed/MaxReplicas + SLOWeight·violations/arrivals + DropWeight·dropped/arrivals)
//
// with billed the mean count of existing (provisioning, ready, draining) replicas
// over the step and the shares 0 when nothing arrived. Episodes never terminate; they
// are truncated at the end of their window.
type Autoscale struct {
	cfg     AutoscaleConfig
	ev      *features.Evaluator
	rec     sim.Recorder
	s       cluster
	obs     []float64 // every feature, as the actuator reads them
	view    []float64 // obs as the learner sees it (Features.Hide)
	extra   map[string]float64
	desired int
	steps   int
	limit   int
	prevRS  float64 // Totals.ReplicaSeconds at the previous step
	prevC   float64 // Totals.Cost at the previous step
	epoch   time.Time
	space   Box
	act     *Actuator
	window  *traces.Trace   // the episode's traffic, rates scaled (for an expert)
	last    sim.Observation // the cluster's latest observation (for an expert)
}

// NewAutoscale validates cfg and returns the environment (Reset before Step).
func NewAutoscale(cfg AutoscaleConfig) (*Autoscale, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ev, err := features.NewEvaluator(cfg.Features, defaultEpoch)
	if err != nil {
		return nil, err
	}
	act, err := NewActuator(cfg.ActionMode, cfg.Actions, cfg.Shield, cfg.Features)
	if err != nil {
		return nil, err
	}
	a := &Autoscale{cfg: cfg, ev: ev, extra: map[string]float64{}, act: act}
	n := len(cfg.Features.Features)
	a.space = Box{Low: make([]float64, n), High: make([]float64, n)}
	for i := range cfg.Features.Features {
		a.space.Low[i], a.space.High[i] = cfg.Features.Features[i].Bounds()
	}
	return a, nil
}

// Config returns the configuration in force, defaults filled.
func (a *Autoscale) Config() AutoscaleConfig { return a.cfg }

// SetFidelity switches the cluster model of the episodes started from now on
// (FidelityRequest or FidelityFluid); the current episode runs on to its end on the
// model it started with. Training uses it to fine-tune a policy trained on the
// fluid model on the request-level simulator.
func (a *Autoscale) SetFidelity(f string) error {
	if f != FidelityRequest && f != FidelityFluid {
		return fmt.Errorf("env: fidelity %q: want %s or %s", f, FidelityRequest, FidelityFluid)
	}
	a.cfg.Fidelity = f
	return nil
}

// ObservationSpace is one dimension per feature, bounded by its Clip.
func (a *Autoscale) ObservationSpace() Box { return a.space }

// ActionSpace has one action per entry of Actions.
func (a *Autoscale) ActionSpace() Discrete { return Discrete{N: len(a.cfg.Actions)} }

// SetRecorder makes the environment pass every scrape also to r (for example a
// features.Storage, to evaluate the features with the Prometheus engine); nil to stop.
func (a *Autoscale) SetRecorder(r sim.Recorder) { a.rec = r }

// Epoch is the wall-clock time of sim time zero of the current episode.
func (a *Autoscale) Epoch() time.Time { return a.epoch }

// Sim is the current episode's simulator; nil with the fluid fidelity.
func (a *Autoscale) Sim() *sim.Sim {
	s, _ := a.s.(*sim.Sim)
	return s
}

// Reset starts a random episode: with a generator seeded from seed it picks a
// training trace, a window start (a whole bucket) with room for warmup and
// EpisodeLength (the whole trace when it is shorter), a rate scale in RateScale and
// the simulator's seed, then runs ResetWindow.
func (a *Autoscale) Reset(seed uint64) ([]float64, Info) {
	rng := rand.New(rand.NewPCG(seed, 0x6175746f7363616c))
	tr := a.cfg.Traces[rng.IntN(len(a.cfg.Traces))]
	need := int((a.cfg.Warmup + a.cfg.EpisodeLength + tr.Bucket - 1) / tr.Bucket)
	start := 0
	if n := len(tr.Rates); n > need {
		start = rng.IntN(n - need + 1)
	}
	lo, hi := a.cfg.RateScale[0], a.cfg.RateScale[1]
	scale := lo + (hi-lo)*rng.Float64()
	obs, info, err := a.ResetWindow(tr, time.Duration(start)*tr.Bucket, a.cfg.EpisodeLength, scale, rng.Uint64())
	if errors.Is(err, sim.ErrInterrupted) {
		// Sim.Interrupt stopped the warmup: the caller is stopping; hand it a
		// zero observation of the right shape rather than fail.
		a.obs = append(a.obs[:0], make([]float64, len(a.cfg.Features.Features))...)
		return a.seen(), Info{}
	}
	if err != nil {
		panic("env: Autoscale.Reset: " + err.Error()) // traces were validated: a bug
	}
	return obs, info
}

// ResetWindow starts a deterministic episode on tr from offset start (a multiple of
// its bucket): Warmup then length of agent steps (to the end of the trace when
// length <= 0 or the trace is shorter), rates multiplied by scale (exact arrivals are
// dropped when scale != 1 and the simulator draws Poisson arrivals), simulator seed
// seed. The initial replica count is elasticity.Demand at the window's first rate,
// clamped to the bounds. Use it to evaluate a policy on a test window.
func (a *Autoscale) ResetWindow(tr *traces.Trace, start, length time.Duration, scale float64, seed uint64) ([]float64, Info, error) {
	if err := tr.Validate(); err != nil {
		return nil, Info{}, err
	}
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, Info{}, fmt.Errorf("env: rate scale %v: must be > 0 and finite", scale)
	}
	end := tr.Duration()
	if length > 0 {
		want := start + a.cfg.Warmup + length
		want = (want + tr.Bucket - 1) / tr.Bucket * tr.Bucket
		end = min(end, want)
	}
	w, err := traces.Slice(tr, start, end)
	if err != nil {
		return nil, Info{}, fmt.Errorf("env: %w", err)
	}
	if w.Duration() < a.cfg.Warmup+a.cfg.Sim.ControlInterval {
		return nil, Info{}, fmt.Errorf("env: window of %q at %v: %v long, shorter than warmup %v plus one control interval", tr.Name, start, w.Duration(), a.cfg.Warmup)
	}
	if scale != 1 {
		for i := range w.Rates {
			w.Rates[i] *= scale
		}
		w.Arrivals = nil
	}
	a.epoch = TraceEpoch(w)
	if w.Start.IsZero() {
		a.epoch = defaultEpoch.Add(start)
	}
	c := a.cfg.Sim
	c.Seed = seed
	c.InitialReplicas = c.ReadyFor(w.Rates[0])
	var s cluster
	if a.cfg.Fidelity == FidelityFluid {
		// The environment reads latency from the scrapes' histograms only.
		s, err = fluid.New(c, w, fluid.Options{NoLatencyQuantiles: true})
	} else {
		s, err = sim.New(c, w)
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("env: %w", err)
	}
	a.s = s
	a.ev.Reset(a.epoch)
	s.SetRecorder(recorders{a.ev, a.rec})
	a.desired = c.InitialReplicas
	a.steps = 0
	a.act.Reset()
	a.window, a.last = w, sim.Observation{}
	for s.Now() < a.cfg.Warmup {
		o, done := s.Step(a.desired)
		a.last = o
		if done {
			if err := s.Err(); err != nil {
				return nil, Info{}, err
			}
			return nil, Info{}, fmt.Errorf("env: window of %q at %v ended during warmup", tr.Name, start)
		}
	}
	a.limit = int((w.Duration() - s.Now() + c.ControlInterval - 1) / c.ControlInterval)
	if length > 0 {
		a.limit = min(a.limit, int((length+c.ControlInterval-1)/c.ControlInterval))
	}
	tot := s.Totals()
	a.prevRS, a.prevC = tot.ReplicaSeconds, tot.Cost
	a.obs = a.ev.Observe(s.Now(), a.obs)
	clear(a.extra)
	a.extra["rate_scale"] = scale
	a.extra["window_start_seconds"] = start.Seconds()
	a.extra["initial_replicas"] = float64(c.InitialReplicas)
	return a.seen(), Info{Extra: a.extra}, nil
}

// Step applies action (an index into Actions; one out of range is treated as "no
// change" and reported as Extra["invalid_action"] = 1) through the Actuator (action
// mode, shield, bounds), advances one control interval and returns the new
// observation and the reward. Info.Extra (reused by the next step) holds cost (money
// this step), replicas (mean billed), ready, desired, arrivals, violations, dropped,
// started and the four reward terms.
//
// When Sim.Interrupt stops the step, Step returns the previous observation, reward
// 0, truncated, and Extra["interrupted"] = 1 (and Reset returns at once, with a zero
// observation).
func (a *Autoscale) Step(action int) ([]float64, float64, bool, bool, Info) {
	clear(a.extra)
	if action < 0 || action >= len(a.cfg.Actions) {
		a.extra["invalid_action"] = 1
	}
	c := &a.cfg.Sim
	prev := a.desired
	a.desired = a.act.Desired(a.s.Now(), a.desired, action, a.obs, c.Min(), c.MaxReplicas)
	started := max(0, a.desired-prev)
	o, done := a.s.Step(a.desired)
	a.last = o
	if a.s.Err() != nil {
		// Sim.Interrupt stopped the step part-way: end the episode at once; the
		// caller, which asked for the interruption, discards this transition.
		a.extra["interrupted"] = 1
		return a.seen(), 0, false, true, Info{Extra: a.extra}
	}
	a.steps++
	tot := a.s.Totals()
	billed := 0.0
	if o.Window > 0 {
		billed = (tot.ReplicaSeconds - a.prevRS) / o.Window.Seconds()
	}
	cost := tot.Cost - a.prevC
	a.prevRS, a.prevC = tot.ReplicaSeconds, tot.Cost
	rc, rs, rd := Reward(a.cfg, billed, o.Arrivals, o.SLOViolations, o.Dropped)
	rch := ChurnPenalty(a.cfg, started)
	a.obs = a.ev.Observe(o.Time, a.obs)
	a.extra["cost"] = cost
	a.extra["replicas"] = billed
	a.extra["ready"] = float64(o.Ready)
	a.extra["desired"] = float64(o.Desired)
	a.extra["arrivals"] = float64(o.Arrivals)
	a.extra["violations"] = float64(o.SLOViolations)
	a.extra["dropped"] = float64(o.Dropped)
	a.extra["started"] = float64(started)
	a.extra["reward_cost"], a.extra["reward_slo"], a.extra["reward_drop"], a.extra["reward_churn"] = -rc, -rs, -rd, -rch
	return a.seen(), -(rc + rs + rd + rch), false, done || a.steps >= a.limit, Info{Extra: a.extra}
}

// seen is the latest observation as the learner sees it: hidden features 0.
func (a *Autoscale) seen() []float64 {
	a.view = a.cfg.Features.Hide(a.view, a.obs)
	return a.view
}

// ChurnPenalty is the churn term of one step in which started replicas were
// requested: ChurnWeight * started * mean start-up seconds / control-interval
// seconds / MaxReplicas (see AutoscaleConfig.ChurnWeight). cfg must be validated.
func ChurnPenalty(cfg AutoscaleConfig, started int) float64 {
	if cfg.ChurnWeight == 0 || started <= 0 {
		return 0
	}
	sc := cfg.Sim
	return cfg.ChurnWeight * float64(started) * sc.StartupDelay.MeanSeconds() / sc.ControlInterval.Seconds() / float64(sc.MaxReplicas)
}

// Reward returns the three penalty terms of one step (each >= 0; the reward is minus
// their sum): CostWeight·billed/MaxReplicas, SLOWeight·violations/arrivals and
// DropWeight·dropped/arrivals (shares 0 when arrivals is 0). cfg must be validated.
func Reward(cfg AutoscaleConfig, billed float64, arrivals, violations, dropped int) (cost, slo, drop float64) {
	cost = *cfg.CostWeight * billed / float64(cfg.Sim.MaxReplicas)
	if arrivals > 0 {
		slo = *cfg.SLOWeight * float64(violations) / float64(arrivals)
		drop = *cfg.DropWeight * float64(dropped) / float64(arrivals)
	}
	return cost, slo, drop
}

// recorders passes a scrape to each non-nil recorder.
type recorders [2]sim.Recorder

func (r recorders) Record(s *sim.Scrape) {
	for _, x := range r {
		if x != nil {
			x.Record(s)
		}
	}
}

// PolicyAutoscaler runs a learned policy inside the simulator like a rule policy: it
// is a sim.Recorder (install it with (*sim.Sim).SetRecorder so it sees every scrape,
// as the environment's evaluator does) and a sim.Autoscaler whose Decide evaluates the
// same features natively at the decision time, asks Choose for an action index, and
// returns the count in force plus Actions[index]. With the spec, epoch and actions of
// training it sees exactly the observations the environment produced.
type PolicyAutoscaler struct {
	ev     *features.Evaluator
	act    *Actuator
	choose func(obs []float64) int
	obs    []float64
}

// NewPolicyAutoscaler compiles spec; epoch is the wall-clock time of sim time zero;
// act turns the chosen index into a count (as the environment's Actuator did in
// training: the same mode, actions and shield).
func NewPolicyAutoscaler(spec features.Spec, epoch time.Time, act *Actuator, choose func(obs []float64) int) (*PolicyAutoscaler, error) {
	if act == nil || choose == nil {
		return nil, errors.New("env: policy autoscaler needs an actuator and a chooser")
	}
	ev, err := features.NewEvaluator(spec, epoch)
	if err != nil {
		return nil, err
	}
	act.Reset()
	return &PolicyAutoscaler{ev: ev, act: act, choose: choose}, nil
}

// Record stores a scrape (sim.Recorder).
func (p *PolicyAutoscaler) Record(s *sim.Scrape) { p.ev.Record(s) }

// Observation returns the feature vector of the latest Decide.
func (p *PolicyAutoscaler) Observation() []float64 { return p.obs }

// Decide implements sim.Autoscaler. An action index out of range means no change.
func (p *PolicyAutoscaler) Decide(o sim.Observation) int {
	p.obs = p.ev.Observe(o.Time, p.obs)
	return p.act.Desired(o.Time, o.Desired, p.choose(p.obs), p.obs, o.MinReplicas, o.MaxReplicas)
}
