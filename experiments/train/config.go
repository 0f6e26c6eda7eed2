// Package train runs PPO or DQN training on the autoscaling environment: a resolved
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
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents/dqn"
	"github.com/intelliscale/intelliscale/agents/ppo"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/traces"
)

// Config is one training run. Start from DefaultConfig (LoadConfig does): the
// zero values of Algorithm-specific sections are not their defaults.
type Config struct {
	// Algorithm is ppo or dqn. Required.
	Algorithm string `yaml:"algorithm"`
	// Steps is the training budget in environment steps (all copies together); it
	// overrides ppo.total_steps and dqn.total_steps. PPO trains whole updates, so it
	// runs floor(Steps / (num_envs*num_steps)) of them. Default 200000.
	Steps int `yaml:"steps"`
	// Seed seeds everything random in the run (networks, actions, episodes); it
	// overrides ppo.seed and dqn.seed. Default 1.
	Seed uint64 `yaml:"seed"`
	// CheckpointEvery is the number of environment steps between checkpoints (PPO:
	// at the first update boundary at or after each multiple). Default Steps/10;
	// negative disables checkpoints (the final one is still written).
	CheckpointEvery int `yaml:"checkpoint_every"`
	// Traces are the traffic traces episodes are cut from (traces.Source: builtin,
	// file with its load options, or synth; then resample, crop, scale); each is split
	// by time with Split and only its train part is used. Default: the four built-in
	// traces. Must be empty when Env.Traces is set by the caller.
	Traces []traces.Source `yaml:"traces"`
	// Split gives the train, validation and test fractions of every trace. Default
	// [0.6, 0.2, 0.2].
	Split [3]float64 `yaml:"split"`
	// Env is the autoscaling environment (simulated service, episodes, actions,
	// reward, features); see env.AutoscaleConfig for its fields and defaults. When
	// its Traces are set (in Go), they are used as they are: they must already be
	// training windows.
	Env env.AutoscaleConfig `yaml:"env"`
	// PPO are the PPO hyperparameters (used when Algorithm is ppo); defaults
	// ppo.DefaultConfig with normalize_obs true.
	PPO ppo.Config `yaml:"ppo"`
	// DQN are the DQN hyperparameters (used when Algorithm is dqn); defaults
	// dqn.DefaultConfig.
	DQN dqn.Config `yaml:"dqn"`
	// Lagrangian learns the SLO weight as a Lagrange multiplier against a violation
	// budget (PPO only; see LagrangianConfig). Default off.
	Lagrangian LagrangianConfig `yaml:"lagrangian,omitempty"`
}

// Algorithms.
const (
	PPO = "ppo"
	DQN = "dqn"
)

// DefaultConfig returns the defaults for an algorithm (ppo or dqn): every section
// at its package's defaults, PPO with observation normalisation on.
func DefaultConfig(algorithm string) Config {
	c := Config{Algorithm: algorithm, PPO: ppo.DefaultConfig(), DQN: dqn.DefaultConfig()}
	c.PPO.NormalizeObs = true
	return c
}

// Validate fills defaults and rejects bad values and combinations, as
// *yamldoc.FieldError values naming the YAML field. It does not load traces (see
// Resolve).
func (c *Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch c.Algorithm {
	case PPO, DQN:
	case "":
		add(yamldoc.Errorf("algorithm", "required: ppo or dqn"))
	default:
		add(yamldoc.Invalid("algorithm", c.Algorithm, "want ppo or dqn"))
	}
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
			add(yamldoc.Invalid(fmt.Sprintf("split[%d]", i), f, "must be in [0, 1]"))
		}
		sum += f
	}
	if math.Abs(sum-1) > 1e-9 {
		add(yamldoc.Invalid("split", c.Split, "fractions must sum to 1"))
	}
	if len(c.Env.Traces) > 0 && len(c.Traces) > 0 {
		add(yamldoc.Invalid("traces", len(c.Traces), "must be empty when the environment's traces are given"))
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
	errs = append(errs, c.Lagrangian.validate(c.Algorithm)...)
	c.PPO.TotalSteps, c.PPO.Seed = c.Steps, c.Seed
	c.DQN.TotalSteps, c.DQN.Seed = c.Steps, c.Seed
	switch c.Algorithm {
	case PPO:
		add(yamldoc.Within("ppo", c.PPO.Validate()))
	case DQN:
		add(yamldoc.Within("dqn", c.DQN.Validate()))
	}
	return errors.Join(errs...)
}

// withoutTraces drops the errors about the environment's traces when it has none yet.
func withoutTraces(err error, drop bool) error {
	if err == nil || !drop {
		return err
	}
	var keep []error
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	for _, e := range list {
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
	return c, nil
}

// DecodeConfig is LoadConfig on a reader; name labels errors.
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
	err = errors.Join(otherSections(root, "", c.Algorithm), c.Validate())
	if err != nil {
		return Config{}, yamldoc.Locate(err, name, root)
	}
	return c, nil
}

// otherSections rejects the hyperparameter section of the algorithm not chosen in
// the mapping at path: a dqn: section in a ppo run would be ignored without a word.
func otherSections(root *yaml.Node, path, algorithm string) error {
	var errs []error
	for _, other := range []string{PPO, DQN} {
		if other == algorithm || (algorithm != PPO && algorithm != DQN) {
			continue
		}
		if k, ok := yamldoc.Child(root, path, other); ok {
			errs = append(errs, &yamldoc.FieldError{Path: joinPath(path, other), Line: k.Line,
				Err: fmt.Errorf("a %s section in a %s run would be ignored: remove it (or set algorithm: %s)", other, algorithm, other)})
		}
	}
	return errors.Join(errs...)
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// Set by an experiment: keys of a training configuration that an experiment's
// train.params may not hold, with where the experiment sets them.
var experimentKeys = map[string]string{
	"algorithm": "the policy's kind",
	"steps":     "the policy's train.steps",
	"seed":      "the experiment's seeds",
	"traces":    "the experiment's traces (their train windows)",
	"split":     "the experiment's traces (their split or windows)",
}

// DecodeParams decodes the train.params of a learned policy in an experiment: a
// training configuration (env, ppo, dqn, lagrangian, checkpoint_every) over
// DefaultConfig(algorithm), strictly, without the keys the experiment sets itself
// (algorithm, steps, seed, traces, split, env.sim). The result is not validated (the
// experiment fills those keys first). Errors are FieldErrors with paths relative to
// params and the lines params has in its document.
func DecodeParams(params *yaml.Node, algorithm string) (Config, error) {
	c := DefaultConfig(algorithm)
	if params == nil || params.IsZero() {
		return c, nil
	}
	if err := yamldoc.DecodeNode(params, &c); err != nil {
		return Config{}, err
	}
	var errs []error
	for key, by := range experimentKeys {
		if k, ok := yamldoc.Child(params, "", key); ok {
			errs = append(errs, &yamldoc.FieldError{Path: key, Line: k.Line, Err: fmt.Errorf("set by the experiment (%s), not here", by)})
		}
	}
	if k, ok := yamldoc.Child(params, "env", "sim"); ok {
		errs = append(errs, &yamldoc.FieldError{Path: "env.sim", Line: k.Line, Err: errors.New("set by the experiment (its sim section), not here")})
	}
	errs = append(errs, otherSections(params, "", algorithm))
	if err := errors.Join(errs...); err != nil {
		return Config{}, sortByLine(err)
	}
	return c, nil
}

// sortByLine orders joined FieldErrors by line, so that messages come in file order
// whatever the map order that found them.
func sortByLine(err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	list := append([]error(nil), j.Unwrap()...)
	line := func(e error) int {
		var fe *yamldoc.FieldError
		if errors.As(e, &fe) {
			return fe.Line
		}
		return 0
	}
	slices.SortStableFunc(list, func(a, b error) int { return line(a) - line(b) })
	return errors.Join(list...)
}

// Resolve loads the traces (the train part of each, unless Env.Traces is set) and
// validates the environment configuration. cfg must have been validated. Errors are
// FieldErrors naming the trace or field.
func (c *Config) Resolve() error {
	if len(c.Env.Traces) == 0 {
		for i, s := range c.Traces {
			at := fmt.Sprintf("traces[%d]", i)
			tr, err := s.Trace()
			if err != nil {
				return yamldoc.Within(at, err)
			}
			train, _, _, err := traces.Split(tr, c.Split)
			if err != nil {
				return yamldoc.Within(at, err)
			}
			c.Env.Traces = append(c.Env.Traces, train)
		}
	}
	if err := c.Env.Validate(); err != nil {
		return yamldoc.Within("env", err)
	}
	c.Lagrangian.resolve(c.Env)
	return nil
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

// configFile is config.yaml: resolvedYAML without the section of the algorithm not
// chosen, so that the file loads back (a dqn: section in a ppo run is an error).
func (c *Config) configFile() ([]byte, error) {
	y, err := c.resolvedYAML()
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(y, &doc); err != nil || len(doc.Content) == 0 {
		return y, err
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i].Value; (k == PPO || k == DQN) && k != c.Algorithm {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			break
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
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
	h.PPO.ParallelEnvs = false
	return &h
}
