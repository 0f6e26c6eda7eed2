// Package train runs any registered training algorithm (agents.LearnerNames: PPO,
// DQN) on the autoscaling environment through one loop: a resolved
// configuration, a progress bar, progress.csv, atomic checkpoints that resume to the
// same bytes, a reward-curve plot and an exported policy file (agents/policy).
package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/agents/dqn"
	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/ppo"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/traces"
)

// Config is one training run. Start from DefaultConfig (LoadConfig does): the
// zero value of Learner is not the algorithm's defaults.
type Config struct {
	// Algorithm is the training algorithm, one of agents.LearnerNames (ppo, dqn).
	// Required.
	Algorithm string `yaml:"algorithm"`
	// Steps is the training budget in environment steps (all copies together); it
	// overrides the algorithm's total_steps. PPO trains whole updates, so it runs
	// floor(Steps / (num_envs*num_steps)) of them. Default 200000.
	Steps int `yaml:"steps" yamldoc:"nozero"`
	// Seed seeds everything random in the run (networks, actions, episodes); it
	// overrides the algorithm's seed. Default 1.
	Seed uint64 `yaml:"seed" yamldoc:"nozero"`
	// CheckpointEvery is the number of environment steps between checkpoints (PPO:
	// at the first update boundary at or after each multiple). Default Steps/10;
	// negative disables checkpoints (the final one is still written).
	CheckpointEvery int `yaml:"checkpoint_every" yamldoc:"nozero"`
	// Traces are the traffic traces episodes are cut from; each is split by time with
	// Split and only its train part is used. Default: the four built-in traces.
	// Ignored (must be empty) when Env.Traces is set by the caller.
	Traces []traces.Source `yaml:"traces"`
	// Split gives the train, validation and test fractions of every trace. Default
	// [0.6, 0.2, 0.2].
	Split [3]float64 `yaml:"split" yamldoc:"nozero"`
	// Traffic, when set, is what the run trains on instead of the train parts of
	// Traces: whole traces, from a randomised synthetic distribution (random:
	// {count: 8, seed: 11}) and any sources listed (traces: [...]), as an
	// experiment's train.traffic. Traces still give the validation parts (for
	// Selection). Default: none. Must be unset when Env.Traces is set by the caller.
	Traffic *traces.Traffic `yaml:"traffic,omitempty"`
	// Windows, with Traffic set, trains on the train parts of Traces as well: those
	// first, then Traffic's traces, each episode drawn from one of them. Default
	// false (Traffic alone); without Traffic it must not be set.
	Windows bool `yaml:"windows,omitempty"`
	// Recipe starts the configuration from named settings (Recipes, LookupRecipe):
	// "benchmark", the training of make bench-real's entry of the algorithm, or for
	// ppo "zero-shot". Keys given beside it win: steps, traffic (with windows) and
	// each other key, mappings key by key (Recipe.With). DecodeConfig applies it
	// (Validate only checks the name); config.yaml records it beside the settings it
	// gave. Default: none.
	Recipe string `yaml:"recipe,omitempty"`
	// Env is the autoscaling environment (simulated service, episodes, actions,
	// reward, features); see env.AutoscaleConfig for its fields and defaults. When
	// its Traces are set (in Go), they are used as they are: they must already be
	// training windows.
	Env env.AutoscaleConfig `yaml:"env"`
	// Lagrangian learns the SLO weight as a Lagrange multiplier against a violation
	// budget (on-policy algorithms only: ppo; see LagrangianConfig). Default off.
	Lagrangian LagrangianConfig `yaml:"lagrangian,omitempty"`
	// WarmStart imitates a rule policy (the oracle, say) before reinforcement
	// learning (see WarmStartConfig). Default off.
	WarmStart *WarmStartConfig `yaml:"warm_start,omitempty"`
	// Selection picks the exported policy among checkpoints by their results on the
	// validation windows (see SelectionConfig). Default off: the last step's policy.
	Selection SelectionConfig `yaml:"selection,omitempty"`
	// FineTune runs the last steps of the budget on the request-level simulator,
	// after training on the fluid model (see FineTuneConfig). Default off.
	FineTune *FineTuneConfig `yaml:"fine_tune,omitempty"`
	// Validation are the windows selection evaluates candidates on. When unset (and
	// Selection on), Resolve cuts the validation part of every trace of Traces; an
	// experiment sets its validation windows here (in Go).
	Validation []ValidationWindow `yaml:"-"`
	// Learner holds the algorithm's hyperparameters (*ppo.Config, *dqn.Config),
	// written in YAML under the key named after the algorithm (ppo:, dqn:); defaults
	// the algorithm's NewConfig (PPO with normalize_obs true).
	Learner learner.Config `yaml:"-"`
	// Sections holds the YAML sections named after an algorithm as decoded, until
	// Validate decodes the one of Algorithm strictly into Learner (any other is an
	// error). Only the YAML decoder sets it.
	Sections map[string]yaml.Node `yaml:",inline"`

	// Notes, when set, is where Run writes what the resolved configuration does that
	// its keys do not say: a training trace too short for a whole episode, whose
	// episodes are cut to its length.
	Notes io.Writer `yaml:"-"`

	// origin is the file the configuration was decoded from (DecodeConfig), so
	// that errors found when the run resolves it (a trace file missing, a warm
	// start's params) name its file and line as those of decoding do.
	origin struct {
		file string
		root *yaml.Node
	}
}

// locate gives err the file and line of the configuration's own document, when it
// was decoded from one; otherwise it prefixes "train: ".
func (c *Config) locate(err error) error {
	if err == nil {
		return nil
	}
	if c.origin.file == "" {
		return fmt.Errorf("train: %w", err)
	}
	var fe *yamldoc.FieldError
	if !errors.As(err, &fe) {
		return fmt.Errorf("%s: %w", c.origin.file, err)
	}
	return yamldoc.Locate(err, c.origin.file, c.origin.root)
}

// Names of the algorithms registered today (agents.LearnerNames has them all).
const (
	PPO = ppo.Name
	DQN = dqn.Name
)

// DefaultConfig returns the defaults for an algorithm: every section at its
// package's defaults (the algorithm's NewConfig). An unknown algorithm leaves Learner
// nil, which Validate reports.
func DefaultConfig(algorithm string) Config {
	c := Config{Algorithm: algorithm}
	if a, err := agents.Learner(algorithm); err == nil {
		c.Learner = a.NewConfig()
	}
	return c
}

// algorithm is the registered algorithm of c (c validated).
func (c *Config) algorithm() learner.Algorithm {
	a, _ := agents.Learner(c.Algorithm)
	return a
}

// Validate fills defaults and rejects bad values and combinations, as
// *yamldoc.FieldError values naming the YAML field. It does not load traces (see
// Resolve), but validates the environment's settings.
func (c *Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	bad := func(field string, v any, why string) { add(yamldoc.Invalid(field, v, why)) }
	alg, algErr := agents.Learner(c.Algorithm)
	switch {
	case c.Algorithm == "":
		add(yamldoc.Errorf("algorithm", "required: one of %v", agents.LearnerNames()))
	case algErr != nil:
		bad("algorithm", c.Algorithm, fmt.Sprintf("want one of %v", agents.LearnerNames()))
	case c.Learner == nil:
		c.Learner = alg.NewConfig()
	case reflect.TypeOf(c.Learner) != reflect.TypeOf(alg.NewConfig()):
		bad("algorithm", c.Algorithm, fmt.Sprintf("hyperparameters of type %T given", c.Learner))
	}
	var budget *yaml.Node // the learner's section as written
	for _, k := range slices.Sorted(maps.Keys(c.Sections)) {
		n := c.Sections[k]
		switch {
		case algErr == nil && k == c.Algorithm && c.Learner != nil:
			add(yamldoc.Within(k, yamldoc.DecodeNode(&n, c.Learner)))
			budget = &n
		case agents.IsLearner(k):
			add(&yamldoc.FieldError{Path: k, Err: fmt.Errorf("a %s section in a %s run would be ignored: remove it (or set algorithm: %s)", k, c.Algorithm, k)})
		default:
			add(&yamldoc.FieldError{Path: k, Err: yamldoc.UnknownKey(k)})
		}
	}
	c.Sections = nil
	if c.Steps == 0 {
		c.Steps = 200_000
	}
	add(yamldoc.InRange("steps", c.Steps, 1, 1_000_000_000))
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = max(1, c.Steps/10)
	}
	if c.Split == [3]float64{} {
		c.Split = [3]float64{0.6, 0.2, 0.2}
	}
	sum := 0.0
	for i, f := range c.Split {
		if !(f >= 0 && f <= 1) {
			bad(fmt.Sprintf("split[%d]", i), f, "must be in [0, 1]")
		}
		sum += f
	}
	if math.Abs(sum-1) > 1e-9 {
		bad("split", c.Split, "fractions must sum to 1")
	}
	if len(c.Env.Traces) > 0 && len(c.Traces) > 0 {
		bad("traces", len(c.Traces), "must be empty when the environment's traces are given")
	}
	switch {
	case c.Traffic != nil && len(c.Env.Traces) > 0:
		add(yamldoc.Errorf("traffic", "must be unset when the environment's traces are given"))
	case c.Traffic != nil:
		add(yamldoc.Within("traffic", c.Traffic.Validate()))
	case c.Windows:
		add(yamldoc.Errorf("windows", "set without traffic: the train parts of the traces are what a run trains on by default"))
	}
	if c.Recipe != "" && algErr == nil {
		add(checkRecipe(c.Algorithm, c.Recipe))
	}
	if len(c.Env.Traces) == 0 && c.Traces == nil {
		for _, s := range traces.DefaultSpecs() {
			c.Traces = append(c.Traces, traces.Source{Builtin: s.Name})
		}
	}
	if len(c.Env.Traces) == 0 && len(c.Traces) == 0 {
		add(yamldoc.Errorf("traces", "empty: list at least one trace (or leave traces out for the built-in ones)"))
	}
	for i := range c.Traces {
		add(yamldoc.Within(fmt.Sprintf("traces[%d]", i), c.Traces[i].Validate()))
	}
	// The environment is validated here too, so that a bad env value is reported
	// before any trace is loaded; its traces are checked by Resolve.
	add(yamldoc.Within("env", withoutTraces(c.Env.Validate(), len(c.Env.Traces) == 0)))
	if algErr == nil {
		errs = append(errs, c.Lagrangian.validate(alg)...)
		errs = append(errs, c.WarmStart.validate(alg)...)
		errs = append(errs, c.Selection.validate()...)
		add(c.FineTune.validate(c.Steps, c.Env.Fidelity))
		c.Learner.SetBudget(c.Steps, c.Seed)
		add(budgetErrors(c.Algorithm, c.Learner.Validate()))
	}
	add(c.budgetWritten(budget))
	return errors.Join(errs...)
}

// FineTuneConfig fine-tunes on the request-level simulator a policy trained on the
// fluid model: the episodes that start once the last Steps of the run's budget
// begin run request by request (an episode under way when they begin ends on the
// fluid model). The learner carries on as it is (networks, optimiser, replay
// buffer, observation statistics); only the cluster model changes, so that the
// policy meets the request-level latency tail the fluid model approximates. The
// switch falls between updates, on the same step on every run and resume.
type FineTuneConfig struct {
	// Steps is the number of environment steps (all copies together) at the end of
	// the budget run on the request-level simulator, in [1, steps]. Required.
	Steps int `yaml:"steps"`
}

// validate checks the fine-tune against the run's budget and environment fidelity
// (fid, filled by the environment's Validate).
func (f *FineTuneConfig) validate(budget int, fid string) error {
	if f == nil {
		return nil
	}
	if f.Steps < 1 || f.Steps > budget {
		return yamldoc.Invalid("fine_tune.steps", f.Steps, fmt.Sprintf("want 1 to steps (%d): the steps at the end of the budget run on the request-level simulator", budget))
	}
	if fid != env.FidelityFluid {
		return yamldoc.Errorf("fine_tune", "env.fidelity is %s: a fine-tune moves a run on the fluid model to the request-level simulator, so set env.fidelity: fluid (or remove fine_tune)", fid)
	}
	return nil
}

// budgetKeys are the keys of a learner's section that SetBudget fills from the
// training's own keys: the learner's key and the top-level key it comes from.
var budgetKeys = map[string]string{"total_steps": "steps", "seed": "seed"}

// budgetWritten refuses a budget key written in the learner's section (n) with
// another value than the run's: SetBudget would overwrite it. The same value, as
// config.yaml records it, is accepted.
func (c *Config) budgetWritten(n *yaml.Node) error {
	if n == nil {
		return nil
	}
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(budgetKeys)) {
		k, ok := yamldoc.Child(n, "", key)
		if !ok {
			continue
		}
		want := uint64(c.Steps)
		if key == "seed" {
			want = c.Seed
		}
		var v uint64
		if err := n.Content[slices.Index(n.Content, k)+1].Decode(&v); err == nil && v == want {
			continue
		}
		errs = append(errs, &yamldoc.FieldError{Path: c.Algorithm + "." + key, Line: k.Line,
			Err: fmt.Errorf("set by the top-level %s (%d), not here: remove it", budgetKeys[key], want)})
	}
	return errors.Join(errs...)
}

// budgetErrors places the learner's errors under its section (ppo.gamma), except
// those about the budget, which name the top-level key the user wrote (steps).
func budgetErrors(section string, err error) error {
	var out []error
	for _, e := range yamldoc.Errors(err) {
		var fe *yamldoc.FieldError
		if errors.As(e, &fe) && budgetKeys[fe.Path] != "" {
			c := *fe
			c.Path = budgetKeys[fe.Path]
			out = append(out, &c)
			continue
		}
		out = append(out, yamldoc.Within(section, e))
	}
	return errors.Join(out...)
}

// withoutTraces drops the errors about the environment's traces when it has none yet.
func withoutTraces(err error, drop bool) error {
	if err == nil || !drop {
		return err
	}
	var keep []error
	for _, e := range yamldoc.Errors(err) {
		var fe *yamldoc.FieldError
		if errors.As(e, &fe) && (fe.Path == "traces" || strings.HasPrefix(fe.Path, "traces[")) {
			continue
		}
		keep = append(keep, e)
	}
	return errors.Join(keep...)
}

// LoadConfig reads a training configuration: YAML decoded strictly (unknown keys
// are errors) over DefaultConfig of its algorithm, validated, with trace files made
// relative to the file's directory. Errors name the file, line and field.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := DecodeConfig(bytes.NewReader(b), path)
	if err != nil {
		return Config{}, err
	}
	for i := range c.Traces {
		c.Traces[i].File = traces.ResolvePath(c.Traces[i].File, filepath.Dir(path))
	}
	if c.Traffic != nil {
		for i := range c.Traffic.Traces {
			c.Traffic.Traces[i].File = traces.ResolvePath(c.Traffic.Traces[i].File, filepath.Dir(path))
		}
	}
	return c, nil
}

// DecodeConfig is LoadConfig on a reader; name labels errors. A recipe (Config.Recipe)
// is laid under the document before it is validated.
func DecodeConfig(r io.Reader, name string) (Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, yamldoc.MaxBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	var head struct {
		Algorithm string `yaml:"algorithm"`
	}
	_ = yaml.Unmarshal(data, &head) // strictness is checked below
	c := DefaultConfig(head.Algorithm)
	root, err := yamldoc.Decode(data, name, &c)
	if err != nil {
		return Config{}, err
	}
	if c.Recipe != "" && agents.IsLearner(c.Algorithm) {
		if c, err = c.withRecipe(root); err != nil {
			return Config{}, yamldoc.Locate(err, name, root)
		}
	}
	if err := yamldoc.Locate(c.Validate(), name, root); err != nil {
		return Config{}, err
	}
	c.origin.file, c.origin.root = name, root
	return c, nil
}

// withRecipe is the configuration root (c decoded from it) laid over its recipe
// as an experiment lays a policy's train block over it (Recipe.With): the
// document's keys are the params, beside steps and traffic. The keys of root
// keep their lines for errors; the recipe's have none.
func (c Config) withRecipe(root *yaml.Node) (Config, error) {
	r, err := LookupRecipe(c.Algorithm, c.Recipe)
	if err != nil {
		return c, err
	}
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	m := r.With(Recipe{Steps: c.Steps, Traffic: c.Traffic, Windows: c.Windows, Params: *doc})
	out := DefaultConfig(c.Algorithm)
	if err := yamldoc.DecodeNode(&m.Params, &out); err != nil {
		return c, err
	}
	out.Steps, out.Traffic, out.Windows = m.Steps, m.Traffic, m.Windows
	return out, nil
}

// Set by an experiment: keys of a training configuration that an experiment's
// train.params may not hold, with where the experiment sets them.
var experimentKeys = map[string]string{
	"algorithm": "the policy's kind",
	"steps":     "the policy's train.steps",
	"seed":      "the experiment's seeds",
	"traces":    "the experiment's traces (their train windows)",
	"split":     "the experiment's traces (their split or windows)",
	"traffic":   "the policy's train.traffic",
	"windows":   "the policy's train.windows",
	"recipe":    "the policy's train.recipe",
}

// DecodeParams decodes the train.params of a learned policy in an experiment: a
// training configuration (env, lagrangian, checkpoint_every and the algorithm's
// section) over DefaultConfig(algorithm), strictly, without the keys the experiment
// sets itself (algorithm, steps, seed, traces, split, traffic, windows, recipe,
// env.sim). The result is not validated (the experiment fills those keys first).
// Errors are FieldErrors with paths relative to params and the lines params has in
// its document.
func DecodeParams(params *yaml.Node, algorithm string) (Config, error) {
	c := DefaultConfig(algorithm)
	if params == nil || params.IsZero() {
		return c, nil
	}
	if err := yamldoc.DecodeNode(params, &c); err != nil {
		return Config{}, err
	}
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(experimentKeys)) {
		if k, ok := yamldoc.Child(params, "", key); ok {
			errs = append(errs, &yamldoc.FieldError{Path: key, Line: k.Line, Err: fmt.Errorf("set by the experiment (%s), not here", experimentKeys[key])})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(budgetKeys)) {
		if k, ok := yamldoc.Child(params, algorithm, key); ok {
			errs = append(errs, &yamldoc.FieldError{Path: algorithm + "." + key, Line: k.Line, Err: fmt.Errorf("set by the experiment (%s), not here", experimentKeys[budgetKeys[key]])})
		}
	}
	if k, ok := yamldoc.Child(params, "env", "sim"); ok {
		errs = append(errs, &yamldoc.FieldError{Path: "env.sim", Line: k.Line, Err: errors.New("set by the experiment (its sim section), not here")})
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Resolve loads the traces (the train part of each, unless Env.Traces is set;
// with Traffic, its whole traces instead or, with Windows, after them) and
// validates the environment configuration. cfg must have been validated. Errors are
// FieldErrors naming the trace or field.
func (c *Config) Resolve() error {
	if len(c.Env.Traces) == 0 {
		for i, s := range c.Traces {
			if c.Traffic != nil && !c.Windows {
				break // the traffic alone; the traces give validation windows
			}
			at := fmt.Sprintf("traces[%d]", i)
			tr, err := SourceTrace(s)
			if err != nil {
				return yamldoc.Within(at, err)
			}
			train, _, _, err := traces.Split(tr, c.Split)
			if err != nil {
				return yamldoc.Within(at, err)
			}
			c.Env.Traces = append(c.Env.Traces, train)
		}
		if c.Traffic != nil {
			srcs, paths, err := c.Traffic.Sources()
			if err != nil {
				return yamldoc.Within("traffic", err)
			}
			for i, s := range srcs {
				tr, err := SourceTrace(s)
				if err != nil {
					return yamldoc.Within("traffic."+paths[i], err)
				}
				c.Env.Traces = append(c.Env.Traces, tr)
			}
		}
		if c.Selection.Every > 0 && c.Validation == nil {
			v, err := c.validationWindows()
			if err != nil {
				return err
			}
			c.Validation = v
		}
	}
	if err := c.Env.Validate(); err != nil {
		return yamldoc.Within("env", err)
	}
	c.Lagrangian.resolve(c.Env)
	return c.WarmStart.resolve(c.Env)
}

// ResolvedNotes are the notes Run writes to Notes, of a resolved configuration:
// each training trace shorter than warmup plus episode_length, whose episodes are
// cut to its length.
func (c *Config) ResolvedNotes() []string {
	var out []string
	need := c.Env.Warmup + c.Env.EpisodeLength
	for _, tr := range c.Env.Traces {
		if d := tr.Duration(); d < need {
			out = append(out, fmt.Sprintf("training trace %q lasts %s, less than env.warmup (%s) plus env.episode_length (%s): its episodes last %s",
				tr.Name, yamldoc.Duration(d), yamldoc.Duration(c.Env.Warmup), yamldoc.Duration(c.Env.EpisodeLength), yamldoc.Duration(d-c.Env.Warmup)))
		}
	}
	return out
}

// resolvedYAML is the configuration as config.yaml records it.
func (c *Config) resolvedYAML() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# Resolved training configuration: every default filled.\n")
	buf.WriteString("# Training traces:")
	for _, tr := range c.Env.Traces {
		fmt.Fprintf(&buf, " %s", tr.Name)
	}
	buf.WriteString("\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// Hash identifies what determines the trained policy: the resolved configuration
// without the fields that do not change the result (checkpoint_every,
// ppo.parallel_envs, the name of the recipe it started from) and the traces'
// contents. A checkpoint resumes only under the same hash.
func (c *Config) Hash() (string, error) {
	h := c.hashable()
	y, err := h.resolvedYAML()
	if err != nil {
		return "", err
	}
	s := sha256.New()
	s.Write(y)
	for _, tr := range c.Env.Traces {
		hashTrace(s, tr)
	}
	c.hashValidation(s)
	return "sha256:" + hex.EncodeToString(s.Sum(nil)), nil
}

// hashTrace writes a trace's name, bucket, start and contents to a hash.
func hashTrace(w io.Writer, tr *traces.Trace) {
	var b [8]byte
	fmt.Fprintf(w, "%s|%d|%d|%d|", tr.Name, tr.Bucket, tr.Start.UnixNano(), len(tr.Rates))
	for _, r := range tr.Rates {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(r))
		w.Write(b[:])
	}
	binary.LittleEndian.PutUint64(b[:], uint64(len(tr.Arrivals)))
	w.Write(b[:])
	for _, a := range tr.Arrivals {
		binary.LittleEndian.PutUint64(b[:], uint64(a))
		w.Write(b[:])
	}
}

func (c *Config) hashable() *Config {
	h := *c
	h.CheckpointEvery = 0
	h.Recipe = "" // what it set is in the rest
	if k, ok := h.Learner.(learner.Canonicaler); ok {
		h.Learner = k.Canonical()
	}
	return &h
}

// configYAML is Config without its methods, for the YAML codec.
type configYAML Config

// MarshalYAML writes the configuration with the algorithm's hyperparameters under
// its name.
func (c Config) MarshalYAML() (any, error) {
	var n yaml.Node
	c.Sections = nil
	if err := n.Encode((*configYAML)(&c)); err != nil {
		return nil, err
	}
	if c.Learner != nil && c.Algorithm != "" {
		var v yaml.Node
		if err := v.Encode(c.Learner); err != nil {
			return nil, err
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: c.Algorithm}, &v)
	}
	return &n, nil
}

// maxChanges bounds the settings changedSettings lists.
const maxChanges = 8

// changedSettings lists the settings that enter Hash and differ between two
// config.yaml documents (was, a run directory's; is, the configuration now), as
// "path old → new" in is's order: "steps 8192 → 16384", "env.slo_weight 2 → 5"
// (a list is one setting). A setting of the algorithm's section that changed as
// a top-level one did is left out (the section's total_steps and seed follow steps
// and seed). ok is false when either document does not load back as a
// configuration (one whose traces were set in Go, say).
func changedSettings(was, is []byte) (changes []string, ok bool) {
	var leaves [2][]leaf
	for i, b := range [][]byte{was, is} {
		c, err := DecodeConfig(bytes.NewReader(b), ConfigFile)
		if err != nil {
			return nil, false
		}
		y, err := c.hashable().resolvedYAML()
		var doc yaml.Node
		if err == nil {
			err = yaml.Unmarshal(y, &doc)
		}
		if err != nil || len(doc.Content) == 0 {
			return nil, false
		}
		leaves[i] = flatten(nil, "", doc.Content[0])
	}
	old := map[string]string{}
	for _, l := range leaves[0] {
		old[l.path] = l.value
	}
	const absent = "(absent)"
	type change struct{ path, from, to string }
	var all []change
	seen := map[string]bool{}
	for _, l := range leaves[1] {
		seen[l.path] = true
		o, ok := old[l.path]
		if !ok {
			o = absent
		}
		if o != l.value {
			all = append(all, change{l.path, o, l.value})
		}
	}
	for _, l := range leaves[0] {
		if !seen[l.path] {
			all = append(all, change{l.path, l.value, absent})
		}
	}
	top := map[[2]string]bool{}
	for _, c := range all {
		if !strings.Contains(c.path, ".") {
			top[[2]string{c.from, c.to}] = true
		}
	}
	for _, c := range all {
		section, key, nested := strings.Cut(c.path, ".")
		if nested && !strings.Contains(key, ".") && agents.IsLearner(section) && top[[2]string{c.from, c.to}] {
			continue
		}
		changes = append(changes, fmt.Sprintf("%s %s → %s", c.path, shorten(c.from), shorten(c.to)))
	}
	if len(changes) > maxChanges {
		changes = append(changes[:maxChanges], fmt.Sprintf("and %d more", len(changes)-maxChanges))
	}
	return changes, true
}

// shorten cuts a value for a message.
func shorten(v string) string {
	if r := []rune(v); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return v
}

// A leaf is one setting of a YAML document: its dotted path and its value (a list
// or a mapping inside a list in flow style).
type leaf struct{ path, value string }

func flatten(out []leaf, path string, n *yaml.Node) []leaf {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			out = flatten(out, p, n.Content[i+1])
		}
		return out
	}
	if n.Kind == yaml.ScalarNode {
		return append(out, leaf{path, n.Value})
	}
	flow(n)
	b, err := yaml.Marshal(n)
	if err != nil {
		return append(out, leaf{path, "?"})
	}
	return append(out, leaf{path, strings.TrimSpace(string(b))})
}

// flow sets the flow style on n and everything under it.
func flow(n *yaml.Node) {
	n.Style |= yaml.FlowStyle
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		flow(c)
	}
}
