// Package experiments turns an experiment configuration into a matrix of simulation
// runs (policy x trace x seed x window), executes it on a bounded worker pool and keeps
// the results on disk in a documented layout (RESULTS.md). Runs resume, shard across
// machines and merge back to the same bytes a single machine would have written.
package experiments

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// Policy kinds other packages name. PolicySpec.Kind accepts every rule policy and
// training algorithm the agents registry has (agents.Kinds), and hpa-tuned, this
// package's own: HPA with one parameter tuned by grid search on the training windows.
const (
	KindHPATuned = "hpa-tuned"
	KindOracle   = "oracle"
)

// Registry kinds this package's code names.
const (
	kindThreshold  = "threshold"
	kindHPA        = "hpa"
	kindKPA        = "kpa"
	kindPredictive = "predictive"
	kindPPO        = "ppo"
	kindDQN        = "dqn"
)

// Split names: the windows each trace is cut into, in time order.
const (
	SplitTrain      = "train"
	SplitValidation = "validation"
	SplitTest       = "test"
)

// ruleKind reports whether kind is a rule policy of the agents registry.
func ruleKind(kind string) bool { return slices.Contains(agents.Names(), kind) }

// Learned reports whether kind is a learned policy that needs a training phase: a
// training algorithm of the agents registry.
func Learned(kind string) bool { return agents.IsLearner(kind) }

// Config is one experiment. The zero value of a field means its default; Validate
// fills defaults and rejects bad combinations.
type Config struct {
	// Name labels the experiment in reports. Required; letters, digits, '-', '_' and '.'.
	Name string `yaml:"name"`
	// Seeds are the experiment seeds (at most 1000); every figure is a mean over them.
	// Default [1, 2, 3] when the key is absent; an explicit empty list is an error.
	Seeds []uint64 `yaml:"seeds"`
	// Sim is the simulated service (sim.Config; Validate checks it, each run fills its
	// defaults). Sim.Seed is ignored: each run's seed is derived from the experiment
	// seed and the cell.
	Sim sim.Config `yaml:"sim"`
	// Traces to run on, each cut into train / validation / test windows. At least one.
	Traces []TraceSpec `yaml:"traces"`
	// Policies to compare. At least one; names unique.
	Policies []PolicySpec `yaml:"policies"`
	// Workers is the number of cells run at once, at most 1024. Default runtime.NumCPU().
	Workers int `yaml:"workers,omitempty"`
	// Eval lists the windows every policy is evaluated on. Default [validation, test].
	// The headline picks the winning learned policy on validation and reports on test,
	// so both are required for a headline.
	Eval []string `yaml:"eval"`
	// Baselines are the policy names the headline compares the winning learned policy
	// against. Default: the first policy of kind threshold and the first of kind
	// hpa-tuned (whichever exist).
	Baselines []string `yaml:"baselines"`
	// WarmStart opens every evaluation and tuning run with the demand of the window's
	// first bucket Ready (scale.go), unless sim.initial_replicas is set. Default true.
	WarmStart *bool `yaml:"warm_start,omitempty"`
	// SLOLevels are the SLO-violation levels, percent of requests, at which the report
	// reads each family's cost along its frontier (matched SLO). Default [1, 2, the
	// target's budget 100*(1-sim.slo.target)].
	SLOLevels []float64 `yaml:"slo_levels,omitempty"`

	// file and root are where Parse read the config, for the lines of Check's errors.
	file string
	root *yaml.Node
	// controlInterval is Sim's, its default filled (Validate sets it): the shortest
	// window a run can be scored on.
	controlInterval time.Duration
}

// TraceSpec names one trace and how it is cut into windows. Where the traffic comes
// from and how it is shaped is a traces.Source, inline: exactly one of builtin, file
// (with its load options) and synth, then resample, start/end/length and
// scale_mean/scale_peak.
type TraceSpec struct {
	// Name labels the trace in cell names. Required, unique; letters, digits, '-', '_', '.'.
	Name string `yaml:"name"`
	// Source is where the trace comes from. A relative file path is taken from the
	// directory of the experiment config file, and "$INTELLISCALE_TRACES" is expanded.
	// A trace without timestamps (rates per bucket, offsets, a synthetic one)
	// starts at midnight; cropped with start:, at midnight plus the crop, so that
	// a window's time of day, a policy's feature, counts from the start of the
	// file, as under sim --start (the crop plus the window's start).
	traces.Source `yaml:",inline"`
	// Split gives the train / validation / test shares of the trace's duration, in
	// time order. Default 0.6 / 0.2 / 0.2. Not valid together with Windows.
	Split Split `yaml:"split"`
	// Windows, when set, gives each window explicitly as offsets from the trace start.
	// The windows must not overlap, and the validation and test windows are at least
	// sim.control_interval long.
	Windows *Windows `yaml:"windows,omitempty"`
}

// Split is the share of a trace's duration in each window; the shares sum to 1.
type Split struct {
	Train      float64 `yaml:"train"`
	Validation float64 `yaml:"validation"`
	Test       float64 `yaml:"test"`
}

// Windows gives train, validation and test windows explicitly.
type Windows struct {
	Train      Window `yaml:"train"`
	Validation Window `yaml:"validation"`
	Test       Window `yaml:"test"`
}

// Window is [Start, End) from the start of a trace.
type Window struct {
	Start time.Duration `yaml:"start"`
	End   time.Duration `yaml:"end"`
}

// PolicySpec is one policy under comparison.
type PolicySpec struct {
	// Name labels the policy in cells and reports. Required, unique; letters, digits,
	// '-', '_' and '.'.
	Name string `yaml:"name"`
	// Kind is a rule policy (static, threshold, hpa, kpa, predictive, oracle),
	// hpa-tuned, or a training algorithm (ppo, dqn): agents.Kinds and hpa-tuned.
	Kind string `yaml:"kind"`
	// Params are the policy's parameters, passed unchanged to the policy (rule
	// policies: agents.New; hpa-tuned: as for hpa, with Tune.Param overridden).
	Params yaml.Node `yaml:"params,omitempty"`
	// Tune is the grid search of an hpa-tuned policy. Required for hpa-tuned only.
	Tune *Tune `yaml:"tune,omitempty"`
	// Train is the training budget of a learned (ppo, dqn) policy. Required for
	// them only, unless File is set.
	Train *TrainBudget `yaml:"train,omitempty"`
	// File, instead of Train, is a policy exported before (intelliscale export) of
	// this kind, evaluated as it is on every window and seed: no training, and so
	// no checkpoint selection. Its deploy-time params (headroom_scale) apply, and
	// a sweep may vary them. A relative path is taken from the config file's
	// directory. The run keeps a copy (policies/NAME/policy.json in the results
	// directory) and refuses a file changed since cells were produced from it.
	// Default: none.
	File string `yaml:"file,omitempty"`
	// Sweep, when set, also runs the policy at each value of one knob, for its
	// cost-against-SLO frontier (sweep.go). Default: none.
	Sweep *Sweep `yaml:"sweep,omitempty"`
	// ZeroShotOf marks a learned policy trained only on its own traffic
	// (train.traffic) as the zero-shot counterpart of the named learned policy of
	// this experiment, one trained on the experiment's training windows; the report
	// sets the two side by side ("Train once, deploy anywhere"). Default: none.
	ZeroShotOf string `yaml:"zero_shot_of,omitempty"`
	// EnsembleOf, instead of Train, makes the policy the ensemble of the networks
	// the named learned policy of this experiment trained, one per seed, deciding
	// by Vote (policy.Ensemble; intelliscale export with several --run). Every
	// evaluation cell runs the same ensemble, so its spread over seeds is the
	// simulator's alone. Its kind is the named policy's; its deploy-time params
	// (headroom_scale) apply, and a sweep may vary them. No training and no
	// checkpoint selection of its own. Default: none.
	EnsembleOf string `yaml:"ensemble_of,omitempty"`
	// Vote is how an ensemble's networks decide (policy.Vote): cautious, the
	// action asking for the most replicas, or median. Only with EnsembleOf.
	// Default: cautious, as intelliscale export.
	Vote string `yaml:"vote,omitempty"`

	// trainedAs names the policy whose training a learned variant uses: its
	// family's, for a sweep of a deploy-time knob (policy.IsDeployKnob); "" for a
	// policy that trains itself.
	trainedAs string
}

// TrainedAs is the policy whose training cells a learned policy's evaluation uses:
// its own name, its family's for a variant of a deploy-time knob, or the policy
// an ensemble is of (EnsembleOf).
func (p *PolicySpec) TrainedAs() string {
	if p.trainedAs != "" {
		return p.trainedAs
	}
	return p.Name
}

// Tune is a grid search over one parameter on the training windows: the chosen value
// has the lowest mean cost among those whose mean SLO violations are within the SLO
// budget (100*(1-SLO.Target) percent), else the lowest mean SLO violations.
type Tune struct {
	// Param is the parameter key in Params to set. Default "target_utilization".
	Param string `yaml:"param"`
	// Grid lists the values to try. Required, at least one.
	Grid []float64 `yaml:"grid"`
}

// TrainBudget is how much a learned policy trains, and on what.
type TrainBudget struct {
	// Steps of environment interaction. Required, > 0.
	Steps int `yaml:"steps"`
	// Traffic, when set, is what the policy trains on instead of the experiment's
	// training windows: whole traces, from a randomised synthetic distribution
	// (random: {count: 8, seed: 11}) and any sources listed (traces: [...]). A
	// relative file path is taken from the config file's directory. Default: the
	// training window of every trace of the experiment.
	Traffic *traces.Traffic `yaml:"traffic,omitempty"`
	// Windows, with Traffic set, trains on the experiment's training windows as
	// well as on Traffic: the windows first, then Traffic's traces, each episode
	// drawn from one of them at random. Default: false (Traffic alone); without
	// Traffic the windows are the default and Windows must not be set.
	Windows bool `yaml:"windows,omitempty"`
	// Params are the learner's options (hyperparameters, reward), passed unchanged.
	Params yaml.Node `yaml:"params,omitempty"`
	// Recipe starts the block from named settings (recipes.go): "benchmark", the
	// settings of make bench-real's entry of the policy's kind, chosen on
	// validation; for ppo also "zero-shot". Keys given beside it win: steps,
	// traffic (with windows) and each key of params. Default: none.
	Recipe string `yaml:"recipe,omitempty"`
}

var errInvalidName = errors.New(`must be non-empty, contain only letters, digits, '-', '_' and '.', not hold "__" (which joins names in cell directories), and not be "." or ".."`)

func validName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return !strings.Contains(s, "__")
}

// Bounds of Config fields, far beyond any real experiment.
const (
	maxSeeds    = 1000
	maxWorkers  = 1024
	maxGrid     = 1000
	maxTraining = 1_000_000_000 // train.steps
)

// Validate fills defaults, checks the sim section, and reports the first invalid
// field as a *yamldoc.FieldError. It checks the configuration alone; Check also
// loads the traces and builds every policy.
func (c *Config) Validate() error {
	if !validName(c.Name) {
		return &yamldoc.FieldError{Path: "name", Value: c.Name, Err: errInvalidName}
	}
	// The sim section is checked here but kept as written: every run derives its
	// own from it (seed, warm-start replicas, swept knobs) and the simulator fills
	// the defaults then.
	probe := c.Sim
	if err := probe.Validate(); err != nil {
		return yamldoc.Within("sim", err)
	}
	c.controlInterval = probe.ControlInterval
	if len(c.Seeds) == 0 {
		// Absent means the default; written out but empty ("seeds: []") is a
		// mistake, not a request for the default.
		if c.Seeds != nil || yamldoc.Has(c.root, "", "seeds") {
			return fieldErr("seeds", "at least one seed is required (leave the key out for the default [1, 2, 3])")
		}
		c.Seeds = []uint64{1, 2, 3}
	}
	if len(c.Seeds) > maxSeeds {
		return fieldErr("seeds", "%d seeds: at most %d", len(c.Seeds), maxSeeds)
	}
	seen := map[uint64]bool{}
	for i, s := range c.Seeds {
		if seen[s] {
			return fieldErr(fmt.Sprintf("seeds[%d]", i), "%d: duplicate", s)
		}
		seen[s] = true
	}
	if err := yamldoc.InRange("workers", c.Workers, 0, maxWorkers); err != nil {
		return err
	}
	if c.Workers == 0 {
		c.Workers = runtime.NumCPU()
	}
	if len(c.Eval) == 0 {
		// As seeds: written out but empty is a mistake, not the default.
		if c.Eval != nil || yamldoc.Has(c.root, "", "eval") {
			return fieldErr("eval", "at least one window is required (leave the key out for the default [validation, test])")
		}
		c.Eval = []string{SplitValidation, SplitTest}
	}
	seenSplit := map[string]bool{}
	for i, s := range c.Eval {
		if s != SplitTrain && s != SplitValidation && s != SplitTest {
			return fieldErr(fmt.Sprintf("eval[%d]", i), "%q: must be train, validation or test", s)
		}
		if seenSplit[s] {
			return fieldErr(fmt.Sprintf("eval[%d]", i), "%q: duplicate", s)
		}
		seenSplit[s] = true
	}
	if len(c.Traces) == 0 {
		return fieldErr("traces", "at least one trace is required")
	}
	names := map[string]bool{}
	for i := range c.Traces {
		// As seeds: a split written out with no share ("split: {}", every share 0)
		// is a mistake, not a request for the default. With windows the split is
		// unused (and a resolved config.yaml holds it as zeros).
		if t := &c.Traces[i]; t.Windows == nil && t.Split == (Split{}) && yamldoc.Has(c.root, fmt.Sprintf("traces[%d]", i), "split") {
			return fieldErr(fmt.Sprintf("traces[%d].split", i), "no share given: set train, validation and test (leave the key out for the default 0.6 / 0.2 / 0.2)")
		}
		if err := c.Traces[i].validate(fmt.Sprintf("traces[%d]", i), c.controlInterval); err != nil {
			return err
		}
		if names[c.Traces[i].Name] {
			return fieldErr(fmt.Sprintf("traces[%d].name", i), "%q: duplicate", c.Traces[i].Name)
		}
		names[c.Traces[i].Name] = true
		// The same traffic and windows under another name would count twice in
		// every mean over traces.
		for j := range i {
			a, b := c.Traces[i], c.Traces[j]
			a.Name, b.Name = "", ""
			if reflect.DeepEqual(a, b) {
				return fieldErr(fmt.Sprintf("traces[%d]", i), "the same traffic and windows as traces[%d] (%q): a trace listed twice counts twice in every mean over traces", j, c.Traces[j].Name)
			}
		}
	}
	if len(c.Policies) == 0 {
		return fieldErr("policies", "at least one policy is required")
	}
	names = map[string]bool{}
	for i := range c.Policies {
		if err := c.Policies[i].validate(fmt.Sprintf("policies[%d]", i)); err != nil {
			return err
		}
		if names[c.Policies[i].Name] {
			return fieldErr(fmt.Sprintf("policies[%d].name", i), "%q: duplicate", c.Policies[i].Name)
		}
		names[c.Policies[i].Name] = true
	}
	if len(c.Baselines) == 0 {
		for _, k := range []string{kindThreshold, KindHPATuned} {
			for _, p := range c.Policies {
				if p.Kind == k {
					c.Baselines = append(c.Baselines, p.Name)
					break
				}
			}
		}
	}
	for i, b := range c.Baselines {
		if !names[b] {
			return fieldErr(fmt.Sprintf("baselines[%d]", i), "%q: no such policy", b)
		}
	}
	if err := c.validateEnsembles(); err != nil {
		return err
	}
	if err := c.validateZeroShot(); err != nil {
		return err
	}
	// As seeds: written out but empty is a mistake, not the default.
	if len(c.SLOLevels) == 0 && (c.SLOLevels != nil || yamldoc.Has(c.root, "", "slo_levels")) {
		return fieldErr("slo_levels", "at least one level is required (leave the key out for the default [1, 2, the SLO target's budget])")
	}
	return c.validateLevels()
}

// validateEnsembles checks every ensemble_of: it names another learned policy of
// the experiment of the same kind that trains here (not a file, not an
// ensemble), and points the ensemble's evaluation at that policy's training.
func (c *Config) validateEnsembles() error {
	for i := range c.Policies {
		p := &c.Policies[i]
		if p.EnsembleOf == "" {
			continue
		}
		at := fmt.Sprintf("policies[%d].ensemble_of", i)
		of, err := c.learnedRef(at, p.Name, p.EnsembleOf)
		switch {
		case err != nil:
			return err
		case of.File != "":
			return yamldoc.Invalid(at, p.EnsembleOf, "a policy file: must name a policy trained in this experiment, one network per seed")
		case of.EnsembleOf != "":
			return yamldoc.Invalid(at, p.EnsembleOf, "an ensemble: must name a policy trained in this experiment, one network per seed")
		case of.Kind != p.Kind:
			return yamldoc.Invalid(fmt.Sprintf("policies[%d].kind", i), p.Kind, fmt.Sprintf("the ensemble of %s, a %s policy: must be %s", of.Name, of.Kind, of.Kind))
		}
		p.trainedAs = of.Name
	}
	return nil
}

// learnedRef resolves the reference ref (zero_shot_of, ensemble_of) of the policy
// named self, at field at, to another learned policy of the experiment.
func (c *Config) learnedRef(at, self, ref string) (*PolicySpec, error) {
	i := slices.IndexFunc(c.Policies, func(q PolicySpec) bool { return q.Name == ref })
	switch {
	case ref == self:
		return nil, yamldoc.Invalid(at, ref, "names the policy itself")
	case i < 0:
		return nil, yamldoc.Invalid(at, ref, "no such policy")
	case !Learned(c.Policies[i].Kind):
		return nil, yamldoc.Invalid(at, ref, fmt.Sprintf("a policy of kind %s: must name a learned policy", c.Policies[i].Kind))
	}
	return &c.Policies[i], nil
}

// validateZeroShot checks every zero_shot_of: it names another learned policy of
// the experiment, trained on the experiment's training windows, and the policy
// holding it is learned and trains on its own traffic.
func (c *Config) validateZeroShot() error {
	for i, p := range c.Policies {
		if p.ZeroShotOf == "" {
			continue
		}
		at := fmt.Sprintf("policies[%d].zero_shot_of", i)
		of, err := c.learnedRef(at, p.Name, p.ZeroShotOf)
		switch {
		case !Learned(p.Kind):
			return fieldErr(at, "only valid for the learned kinds (%s)", strings.Join(agents.LearnerNames(), ", "))
		case p.File != "":
			return fieldErr(at, "the policy is a file: what it was trained on cannot be checked here, so it cannot be set beside a policy as its zero-shot counterpart")
		case p.EnsembleOf != "":
			return fieldErr(at, "the policy is an ensemble (ensemble_of): set zero_shot_of on the policy it is of")
		case p.Train.Traffic == nil:
			return fieldErr(at, "a zero-shot policy trains on its own traffic: set train.traffic")
		case err != nil:
			return err
		case p.Train.Windows:
			return yamldoc.Invalid(at, p.ZeroShotOf, "the policy trains on the experiment's training windows (train.windows): a zero-shot policy must not see them")
		case of.File != "":
			return yamldoc.Invalid(at, p.ZeroShotOf, "a policy file: must name a policy trained on the experiment's training windows")
		case of.EnsembleOf != "":
			return yamldoc.Invalid(at, p.ZeroShotOf, "an ensemble: must name a policy trained on the experiment's training windows")
		case of.Train.Traffic != nil || of.ZeroShotOf != "":
			return yamldoc.Invalid(at, p.ZeroShotOf, "trains on its own traffic: must name a policy trained on the experiment's training windows")
		}
		if _, ok := yamldoc.Child(&p.Train.Params, "", "selection"); ok {
			return fieldErr(fmt.Sprintf("policies[%d].train.params.selection", i), "a zero-shot policy sees none of the experiment's traffic, so no validation windows to select a checkpoint on: remove it")
		}
	}
	return nil
}

// ZeroShotPairs lists the zero-shot policies with the policies they are the
// counterparts of, in config order: [zero-shot name, counterpart name].
func (c *Config) ZeroShotPairs() [][2]string {
	var out [][2]string
	for _, p := range c.Policies {
		if p.ZeroShotOf != "" {
			out = append(out, [2]string{p.Name, p.ZeroShotOf})
		}
	}
	return out
}

// validate checks a trace at field path at; controlInterval is the simulator's
// (defaults filled), the shortest validation or test window it accepts.
func (t *TraceSpec) validate(at string, controlInterval time.Duration) error {
	if !validName(t.Name) {
		return &yamldoc.FieldError{Path: at + ".name", Value: t.Name, Err: errInvalidName}
	}
	if err := t.Source.Validate(); err != nil {
		return yamldoc.Within(at, err)
	}
	if t.Windows != nil {
		if t.Split != (Split{}) {
			return fieldErr(at+".split", "given together with %s.windows, which would replace it: give one of split and windows", at)
		}
		return t.Windows.validate(at+".windows", controlInterval)
	}
	if t.Split == (Split{}) {
		t.Split = Split{Train: 0.6, Validation: 0.2, Test: 0.2}
	}
	s := t.Split
	// Written as !(x > 0) so that NaN, which compares false, is refused here too.
	if !(s.Train > 0) || !(s.Validation > 0) || !(s.Test > 0) {
		return fieldErr(at+".split", "train %v, validation %v, test %v: each must be > 0", s.Train, s.Validation, s.Test)
	}
	if sum := s.Train + s.Validation + s.Test; !(sum >= 0.999999 && sum <= 1.000001) {
		return fieldErr(at+".split", "shares sum to %.6g: must sum to 1", sum)
	}
	return nil
}

// validate checks explicit windows at field path at: each is well formed, no two
// overlap (what a policy is tuned, trained or selected on must not be what it is
// tested on), and the validation and test windows hold at least one control interval.
func (ws *Windows) validate(at string, controlInterval time.Duration) error {
	named := []struct {
		name string
		w    Window
	}{{SplitTrain, ws.Train}, {SplitValidation, ws.Validation}, {SplitTest, ws.Test}}
	for _, n := range named {
		if n.w.Start < 0 || n.w.End <= n.w.Start {
			return fieldErr(at+"."+n.name, "[%v, %v): must have 0 <= start < end", n.w.Start, n.w.End)
		}
	}
	for j, b := range named {
		for _, a := range named[:j] {
			if a.w.Start < b.w.End && b.w.Start < a.w.End {
				return fieldErr(at+"."+b.name, "%s window %s overlaps the %s window %s: the windows must not overlap",
					b.name, showWindow(b.w), a.name, showWindow(a.w))
			}
		}
	}
	for _, n := range named[1:] {
		if d := n.w.End - n.w.Start; d < controlInterval {
			return fieldErr(at+"."+n.name, "%s window %s is %s long, shorter than sim.control_interval (%s)",
				n.name, showWindow(n.w), yamldoc.Duration(d), yamldoc.Duration(controlInterval))
		}
	}
	return nil
}

// showWindow formats a window as a user writes it: [6h, 8h).
func showWindow(w Window) string {
	return fmt.Sprintf("[%s, %s)", yamldoc.Duration(w.Start), yamldoc.Duration(w.End))
}

func (p *PolicySpec) validate(at string) error {
	if !validName(p.Name) {
		return &yamldoc.FieldError{Path: at + ".name", Value: p.Name, Err: errInvalidName}
	}
	switch {
	case ruleKind(p.Kind):
	case p.Kind == KindHPATuned:
		if p.Tune == nil || len(p.Tune.Grid) == 0 {
			return fieldErr(at+".tune.grid", "hpa-tuned needs a non-empty grid")
		}
		if len(p.Tune.Grid) > maxGrid {
			return fieldErr(at+".tune.grid", "%d values: at most %d", len(p.Tune.Grid), maxGrid)
		}
		for j, v := range p.Tune.Grid {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return yamldoc.Invalid(fmt.Sprintf("%s.tune.grid[%d]", at, j), v, "must be a finite number")
			}
		}
		if p.Tune.Param == "" {
			p.Tune.Param = "target_utilization"
		}
	case Learned(p.Kind) && p.File != "":
		if p.Train != nil {
			return fieldErr(at+".train", "set beside file: a policy file is evaluated as exported, not trained")
		}
		if p.EnsembleOf != "" {
			return fieldErr(at+".ensemble_of", "set beside file: a policy is a file or an ensemble of this experiment's training, not both")
		}
	case Learned(p.Kind) && p.EnsembleOf != "":
		if p.Train != nil {
			return fieldErr(at+".train", "set beside ensemble_of: an ensemble runs the networks %s trained, and trains none of its own", p.EnsembleOf)
		}
		switch p.Vote {
		case "":
			p.Vote = policy.VoteCautious
		case policy.VoteCautious, policy.VoteMedian:
		default:
			return yamldoc.Invalid(at+".vote", p.Vote, fmt.Sprintf("want %s or %s", policy.VoteCautious, policy.VoteMedian))
		}
	case Learned(p.Kind):
		if p.Train != nil && p.Train.Recipe != "" {
			if err := p.Train.applyRecipe(p.Kind); err != nil {
				return yamldoc.Within(at+".train", err)
			}
		}
		if p.Train == nil || p.Train.Steps <= 0 {
			return fieldErr(at+".train.steps", "%s needs train.steps > 0 (or file: an exported policy, or ensemble_of: another policy's seeds)", p.Kind)
		}
		if err := yamldoc.InRange(at+".train.steps", p.Train.Steps, 1, maxTraining); err != nil {
			return err
		}
		if !p.Train.Params.IsZero() && p.Train.Params.Kind != yaml.MappingNode {
			return fieldErr(at+".train.params", "must be a mapping")
		}
		if p.Train.Traffic != nil {
			if err := p.Train.Traffic.Validate(); err != nil {
				return yamldoc.Within(at+".train.traffic", err)
			}
		} else if p.Train.Windows {
			return fieldErr(at+".train.windows", "set without train.traffic: the training windows are what a policy trains on by default")
		}
	default:
		return fieldErr(at+".kind", "%q: unknown (%s)", p.Kind, strings.Join(slices.Sorted(slices.Values(append(agents.Kinds(), KindHPATuned))), ", "))
	}
	if p.Tune != nil && p.Kind != KindHPATuned {
		return fieldErr(at+".tune", "only valid for kind hpa-tuned")
	}
	if p.Train != nil && !Learned(p.Kind) {
		return fieldErr(at+".train", "only valid for the learned kinds (%s)", strings.Join(agents.LearnerNames(), ", "))
	}
	if p.File != "" && !Learned(p.Kind) {
		return fieldErr(at+".file", "only valid for the learned kinds (%s): a policy file holds a trained network", strings.Join(agents.LearnerNames(), ", "))
	}
	if p.File != "" && p.Sweep != nil && !policy.IsDeployKnob(p.Sweep.Param) {
		return yamldoc.Invalid(at+".sweep.param", p.Sweep.Param, "a policy file is not trained here: only its deploy-time params (headroom_scale) can be swept")
	}
	if p.EnsembleOf != "" && !Learned(p.Kind) {
		return fieldErr(at+".ensemble_of", "only valid for the learned kinds (%s): an ensemble is of trained networks", strings.Join(agents.LearnerNames(), ", "))
	}
	if p.Vote != "" && p.EnsembleOf == "" {
		return fieldErr(at+".vote", "set without ensemble_of: only an ensemble's networks vote")
	}
	if p.EnsembleOf != "" && p.Sweep != nil && !policy.IsDeployKnob(p.Sweep.Param) {
		return yamldoc.Invalid(at+".sweep.param", p.Sweep.Param, "an ensemble trains nothing of its own: only its deploy-time params (headroom_scale) can be swept")
	}
	if !p.Params.IsZero() && p.Params.Kind != yaml.MappingNode {
		return fieldErr(at+".params", "must be a mapping")
	}
	if p.Sweep != nil {
		return p.Sweep.validate(at+".sweep", p.Kind)
	}
	return nil
}

func fieldErr(field, format string, args ...any) error {
	return yamldoc.Errorf(field, format, args...)
}

// Parse decodes an experiment config strictly (unknown keys are errors) and validates
// it. name labels errors, for example "default.yaml line 12: policies[3].kind: ...".
func Parse(data []byte, name string) (*Config, error) {
	var cfg Config
	root, err := yamldoc.Decode(data, name, &cfg)
	if err != nil {
		return nil, err
	}
	if emptyDocument(root) {
		return nil, &yamldoc.FieldError{File: name, Err: errors.New("empty configuration")}
	}
	// The tree is kept before Validate, which tells an absent key from an empty one.
	cfg.file, cfg.root = name, root
	if err := cfg.Validate(); err != nil {
		return nil, cfg.locate(err)
	}
	return &cfg, nil
}

// emptyDocument reports whether a YAML document holds nothing: no bytes, only
// comments, null or an empty mapping.
func emptyDocument(root *yaml.Node) bool {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	switch {
	case n == nil || n.Kind == 0 || n.Kind == yaml.DocumentNode:
		return true
	case n.Kind == yaml.ScalarNode:
		return n.Tag == "!!null"
	case n.Kind == yaml.MappingNode:
		return len(n.Content) == 0
	}
	return false
}

// Load reads and parses an experiment config file. Relative trace file paths are
// resolved against the file's directory (traces.ResolvePath).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("experiment config: %w", err)
	}
	cfg, err := Parse(data, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	base := filepath.Dir(path)
	for i := range cfg.Traces {
		cfg.Traces[i].File = traces.ResolvePath(cfg.Traces[i].File, base)
	}
	for i, p := range cfg.Policies {
		if p.File != "" {
			if !filepath.IsAbs(p.File) {
				cfg.Policies[i].File = filepath.Join(base, p.File)
			}
		}
		if p.Train != nil && p.Train.Traffic != nil {
			for j := range p.Train.Traffic.Traces {
				p.Train.Traffic.Traces[j].File = traces.ResolvePath(p.Train.Traffic.Traces[j].File, base)
			}
		}
	}
	return cfg, nil
}

// locate places the errors of a check in the config's file and lines (when it was
// parsed from one).
func (c *Config) locate(err error) error {
	if c.root == nil {
		return err
	}
	return yamldoc.Locate(err, c.file, c.root)
}
