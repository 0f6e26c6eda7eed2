package experiments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/experiments/train"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// This file is the one place where the runner meets the training code
// (experiments/train): every learned kind (a training algorithm of the agents
// registry) trains with train.RunContext and runs its exported policy with
// train.Autoscaler.

func defaultLearners() map[string]Learner {
	m := map[string]Learner{}
	for _, name := range agents.LearnerNames() {
		m[name] = trainer{name}
	}
	return m
}

type trainer struct{ algorithm string }

// Train runs train.RunContext in job.Dir. PolicySpec.Train.Params, when set, is a
// train.Config in YAML (env, lagrangian and the algorithm's section) over
// train.DefaultConfig; steps, seed,
// the simulated service and the training windows come from the experiment.
func (t trainer) Train(ctx context.Context, job TrainJob) error {
	cfg, err := t.config(job.Policy)
	if err != nil {
		return fmt.Errorf("policy %q: %w", job.Policy.Name, err)
	}
	cfg.Steps = job.Policy.Train.Steps
	cfg.Seed = job.Seed
	cfg.Traces = nil
	cfg.Env.Sim = job.Sim
	cfg.Env.Traces = job.Traces
	for i, w := range job.Traces {
		// A window of a trace without a wall-clock start keeps its time of day, as
		// evaluation does (train.Epoch of the window's offset).
		if w.Start.IsZero() && job.Offsets[i] > 0 {
			w.Start = train.Epoch(nil, job.Offsets[i])
		}
	}
	if cfg.Selection.Every > 0 {
		cfg.Validation = validationWindows(job.Validation)
	}
	log := io.Writer(io.Discard)
	if job.Log != nil {
		log = &prefixWriter{w: job.Log, prefix: "train/" + filepath.Base(job.Dir) + ": "}
	}
	_, err = train.RunContext(ctx, cfg, job.Dir, log)
	return err
}

// config is the policy's train.params over train.DefaultConfig, as a FieldError at
// train.params when they are bad.
func (t trainer) config(spec PolicySpec) (train.Config, error) {
	var params *yaml.Node
	if spec.Train != nil {
		params = &spec.Train.Params
	}
	cfg, err := train.DecodeParams(params, t.algorithm)
	if err != nil {
		return cfg, yamldoc.Within("train.params", err)
	}
	cfg.Algorithm = t.algorithm
	return cfg, nil
}

// CheckParams validates the policy's training configuration for the experiment's
// service and training windows, as Train would use it, without training.
func (t trainer) CheckParams(spec PolicySpec, simCfg sim.Config, windows []*traces.Trace) error {
	cfg, err := t.config(spec)
	if err != nil {
		return err
	}
	cfg.Steps = spec.Train.Steps
	cfg.Seed = 1
	cfg.Traces = nil
	cfg.Env.Sim = simCfg
	cfg.Env.Traces = windows
	if err := cfg.Validate(); err != nil {
		return yamldoc.Within("train.params", err)
	}
	if err := cfg.Resolve(); err != nil {
		return yamldoc.Within("train.params", err)
	}
	return checkDeployParams(spec, cfg.Env.ActionMode)
}

// CheckFile checks a policy file (PolicySpec.File, read as data): it loads, an algorithm of
// this kind wrote it, and it runs on the experiment's service with its params and
// every value of its sweep.
func (t trainer) CheckFile(spec PolicySpec, data []byte, simCfg sim.Config) error {
	p, err := policy.Read(bytes.NewReader(data))
	if err != nil {
		return yamldoc.Errorf("file", "%s: %v", spec.File, err)
	}
	if p.Algorithm != t.algorithm {
		return yamldoc.Invalid("kind", t.algorithm, fmt.Sprintf("%s holds a %s policy", spec.File, p.Algorithm))
	}
	if _, err := train.Autoscaler(p, simCfg, time.Time{}); err != nil {
		return yamldoc.Errorf("file", "%s: %v", spec.File, err)
	}
	return checkDeployParams(spec, p.ActionMode)
}

// checkDeployParams checks a learned policy's params, the exported policy's
// deploy-time parameters (policy.Deploy), and every value of a sweep of one of
// them, for a policy of the given action mode.
func checkDeployParams(spec PolicySpec, actionMode string) error {
	if err := checkDeploy(&spec.Params, actionMode); err != nil {
		return yamldoc.Within("params", err)
	}
	if s := spec.Sweep; s != nil && policy.IsDeployKnob(s.Param) {
		for k, v := range s.Values {
			if err := checkDeploy(setPath(&spec.Params, s.Param, v), actionMode); err != nil {
				return yamldoc.Within(fmt.Sprintf("sweep.values[%d].params", k), err)
			}
		}
	}
	return nil
}

// checkDeploy checks deploy-time params for a policy of the given action mode.
func checkDeploy(params *yaml.Node, actionMode string) error {
	d, err := policy.DecodeDeploy(nodeOrNil(params))
	if err != nil {
		return err
	}
	return d.Check(actionMode)
}

// Autoscaler loads policy.json of every dir (of several, their ensemble voting as
// spec.Vote: policy.Ensemble), applies the policy's deploy-time params
// (policy.Deploy) and runs it with the features of training; the epoch is the
// wall-clock time of the window's start, as in training.
func (t trainer) Autoscaler(dirs []string, spec PolicySpec, ec EvalContext) (sim.Autoscaler, error) {
	ps := make([]*policy.Policy, len(dirs))
	for i, dir := range dirs {
		p, err := policy.Load(filepath.Join(dir, "policy.json"))
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	p := ps[0]
	if len(ps) > 1 {
		var err error
		if p, err = policy.Ensemble(ps, spec.Vote); err != nil {
			var me *policy.MemberError
			if errors.As(err, &me) {
				return nil, fmt.Errorf("%s: %w", dirs[me.Index], me.Err)
			}
			return nil, err
		}
	}
	if err := policy.ApplyParams(p, nodeOrNil(&spec.Params)); err != nil {
		return nil, yamldoc.Within("params", err)
	}
	return train.Autoscaler(p, ec.Sim, train.Epoch(ec.Trace, ec.Start))
}

// prefixWriter prefixes every line; it is not a terminal, so trainers write plain
// progress lines that interleave cleanly between parallel cells.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i]); err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
}
