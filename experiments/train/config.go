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
	"regexp"
	"slices"
	"strconv"

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
	Steps int `yaml:"steps"`
	// Seed seeds everything random in the run (networks, actions, episodes); it
	// overrides the algorithm's seed. Default 1.
	Seed uint64 `yaml:"seed"`
	// CheckpointEvery is the number of environment steps between checkpoints (PPO:
	// at the first update boundary at or after each multiple). Default Steps/10;
	// negative disables checkpoints (the final one is still written).
	CheckpointEvery int `yaml:"checkpoint_every"`
	// Traces are the traffic traces episodes are cut from; each is split by time with
	// Split and only its train part is used. Default: the four built-in traces.
	// Ignored (must be empty) when Env.Traces is set by the caller.
	Traces []TraceSource `yaml:"traces"`
	// Split gives the train, validation and test fractions of every trace. Default
	// [0.6, 0.2, 0.2].
	Split [3]float64 `yaml:"split"`
	// Env is the autoscaling environment (simulated service, episodes, actions,
	// reward, features); see env.AutoscaleConfig for its fields and defaults. When
	// its Traces are set (in Go), they are used as they are: they must already be
	// training windows.
	Env env.AutoscaleConfig `yaml:"env"`
	// Lagrangian learns the SLO weight as a Lagrange multiplier against a violation
	// budget (on-policy algorithms only: ppo; see LagrangianConfig). Default off.
	Lagrangian LagrangianConfig `yaml:"lagrangian,omitempty"`
	// Learner holds the algorithm's hyperparameters (*ppo.Config, *dqn.Config),
	// written in YAML under the key named after the algorithm (ppo:, dqn:); defaults
	// the algorithm's NewConfig (PPO with normalize_obs true).
	Learner learner.Config `yaml:"-"`
	// Sections holds the YAML sections named after an algorithm as decoded, until
	// Validate decodes the one of Algorithm strictly into Learner (any other is an
	// error). Only the YAML decoder sets it.
	Sections map[string]yaml.Node `yaml:",inline"`
}

// TraceSource names one trace: exactly one of Builtin, File and Synth.
type TraceSource struct {
	// Builtin is the name of a built-in trace (traces.DefaultSpecs), synthesized with
	// traces.DefaultSeed.
	Builtin string `yaml:"builtin,omitempty"`
	// File is a trace file (CSV, counts or access log; see traces.LoadFile), relative
	// to the configuration file's directory.
	File string `yaml:"file,omitempty"`
	// Synth is a synthetic trace spec (traces.SynthSpec), synthesized with Seed.
	Synth *traces.SynthSpec `yaml:"synth,omitempty"`
	// Seed of Synth. Default traces.DefaultSeed.
	Seed uint64 `yaml:"seed,omitempty"`
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

// Validate fills defaults and rejects bad values and combinations, naming the YAML
// field. It does not load traces (see Resolve).
func (c *Config) Validate() error {
	var errs []error
	bad := func(field string, v any, why string) {
		errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf("%v: %s", v, why)})
	}
	alg, algErr := agents.Learner(c.Algorithm)
	switch {
	case c.Algorithm == "":
		bad("algorithm", `""`, fmt.Sprintf("required: one of %v", agents.LearnerNames()))
	case algErr != nil:
		bad("algorithm", fmt.Sprintf("%q", c.Algorithm), fmt.Sprintf("want one of %v", agents.LearnerNames()))
	case c.Learner == nil:
		c.Learner = alg.NewConfig()
	case reflect.TypeOf(c.Learner) != reflect.TypeOf(alg.NewConfig()):
		bad("algorithm", c.Algorithm, fmt.Sprintf("hyperparameters of type %T given", c.Learner))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Sections)) {
		n := c.Sections[k]
		switch {
		case algErr == nil && k == c.Algorithm && c.Learner != nil:
			if err := decodeSection(&n, c.Learner); err != nil {
				bad(k, "section", err.Error())
			}
		case agents.IsLearner(k):
			bad(k, "section", fmt.Sprintf("hyperparameters of another algorithm (algorithm is %q)", c.Algorithm))
		default:
			errs = append(errs, fmt.Errorf("line %d: field %s not found in type train.Config", n.Line, k))
		}
	}
	c.Sections = nil
	if c.Steps == 0 {
		c.Steps = 200_000
	}
	if c.Steps < 1 || c.Steps > 1_000_000_000 {
		bad("steps", c.Steps, "must be in [1, 1e9]")
	}
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
	if len(c.Env.Traces) == 0 && len(c.Traces) == 0 {
		for _, s := range traces.DefaultSpecs() {
			c.Traces = append(c.Traces, TraceSource{Builtin: s.Name})
		}
	}
	for i, s := range c.Traces {
		n := 0
		if s.Builtin != "" {
			n++
		}
		if s.File != "" {
			n++
		}
		if s.Synth != nil {
			n++
		}
		if n != 1 {
			bad(fmt.Sprintf("traces[%d]", i), n, "sources given: want exactly one of builtin, file, synth")
		}
		if s.Builtin != "" {
			if _, err := traces.DefaultSpec(s.Builtin); err != nil {
				bad(fmt.Sprintf("traces[%d].builtin", i), s.Builtin, err.Error())
			}
		}
		if s.Synth != nil {
			if err := s.Synth.Validate(); err != nil {
				bad(fmt.Sprintf("traces[%d].synth", i), "spec", err.Error())
			}
		}
	}
	if algErr == nil {
		errs = append(errs, c.Lagrangian.validate(alg)...)
		c.Learner.SetBudget(c.Steps, c.Seed)
		if err := c.Learner.Validate(); err != nil {
			errs = append(errs, &FieldError{Field: c.Algorithm, Err: err})
		}
	}
	return errors.Join(errs...)
}

// FieldError is a configuration value Validate rejects; Field is its YAML path.
// LoadConfig adds the file name and line.
type FieldError struct {
	Field string
	Line  int
	Err   error
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %v", e.Line, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

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
		if f := c.Traces[i].File; f != "" && !filepath.IsAbs(f) {
			c.Traces[i].File = filepath.Join(filepath.Dir(path), f)
		}
	}
	return c, nil
}

// DecodeConfig is LoadConfig on a reader; name labels errors.
func DecodeConfig(r io.Reader, name string) (Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > 1<<20 {
		return Config{}, fmt.Errorf("%s: larger than 1 MiB", name)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	var head struct {
		Algorithm string `yaml:"algorithm"`
	}
	_ = root.Decode(&head) // strictness is checked below
	c := DefaultConfig(head.Algorithm)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, withLines(err, &root))
	}
	return c, nil
}

// decodeSection decodes n strictly into out, with the lines of errors counted in
// the whole document (yamldoc.DecodeNode counts them from n).
func decodeSection(n *yaml.Node, out any) error {
	err := yamldoc.DecodeNode(n, out)
	if err == nil || n.Line <= 1 {
		return err
	}
	return errors.New(lineRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
		v, _ := strconv.Atoi(m[len("line "):])
		return fmt.Sprintf("line %d", v+n.Line-1)
	}))
}

var lineRE = regexp.MustCompile(`line [0-9]+`)

// withLines sets the line of every FieldError in err from the YAML tree.
func withLines(err error, root *yaml.Node) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		var fe *FieldError
		if errors.As(e, &fe) {
			fe.Line = lineOf(root, fe.Field)
		}
	}
	return err
}

// lineOf finds the line of a path like "traces[2].synth" or "ppo", or of its
// longest prefix present; 0 when none is.
func lineOf(root *yaml.Node, path string) int { return yamldoc.Line(root, path) }

// Resolve loads the traces (the train part of each, unless Env.Traces is set) and
// validates the environment configuration. cfg must have been validated.
func (c *Config) Resolve() error {
	if len(c.Env.Traces) == 0 {
		for i, s := range c.Traces {
			tr, err := s.load()
			if err != nil {
				return &FieldError{Field: fmt.Sprintf("traces[%d]", i), Err: err}
			}
			train, _, _, err := traces.Split(tr, c.Split)
			if err != nil {
				return &FieldError{Field: fmt.Sprintf("traces[%d]", i), Err: err}
			}
			c.Env.Traces = append(c.Env.Traces, train)
		}
	}
	ec, err := c.Env.Validate()
	if err != nil {
		return &FieldError{Field: "env", Err: err}
	}
	c.Env = ec
	c.Lagrangian.resolve(ec)
	return nil
}

func (s TraceSource) load() (*traces.Trace, error) {
	switch {
	case s.Builtin != "":
		spec, err := traces.DefaultSpec(s.Builtin)
		if err != nil {
			return nil, err
		}
		return traces.Synthesize(spec, traces.DefaultSeed)
	case s.File != "":
		return traces.LoadFile(s.File, traces.LoadOptions{})
	case s.Synth != nil:
		seed := s.Seed
		if seed == 0 {
			seed = traces.DefaultSeed
		}
		return traces.Synthesize(*s.Synth, seed)
	}
	return nil, errors.New("no trace source")
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
// ppo.parallel_envs) and the traces' contents. A checkpoint resumes only under the
// same hash.
func (c *Config) Hash() (string, error) {
	h := c.hashable()
	y, err := h.resolvedYAML()
	if err != nil {
		return "", err
	}
	s := sha256.New()
	s.Write(y)
	var b [8]byte
	for _, tr := range c.Env.Traces {
		fmt.Fprintf(s, "%s|%d|%d|%d|", tr.Name, tr.Bucket, tr.Start.UnixNano(), len(tr.Rates))
		for _, r := range tr.Rates {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(r))
			s.Write(b[:])
		}
		binary.LittleEndian.PutUint64(b[:], uint64(len(tr.Arrivals)))
		s.Write(b[:])
		for _, a := range tr.Arrivals {
			binary.LittleEndian.PutUint64(b[:], uint64(a))
			s.Write(b[:])
		}
	}
	return "sha256:" + hex.EncodeToString(s.Sum(nil)), nil
}

func (c *Config) hashable() *Config {
	h := *c
	h.CheckpointEvery = 0
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
