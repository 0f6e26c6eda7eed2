package train

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/sim/fluid"
	"github.com/intelliscale/intelliscale/traces"
)

// Files a run with checkpoint selection (selection.every > 0) writes besides those
// of Run.
const (
	PolicyLastFile = "policy-last.json" // the policy of the last step (policy.json is the selected one)
	SelectionFile  = "selection.csv"    // one row per candidate and validation window
)

// SelectionConfig is checkpoint selection on the validation windows: every Every
// environment steps (at the first update boundary at or after each multiple, and at
// the end) the greedy policy is a candidate, run on every validation window
// (Config.Validation) with the same simulator seed for all candidates, and
// policy.json is the candidate the benchmark's eligibility rule prefers (see
// better). Off (Every 0) leaves the run as without it, byte for byte.
type SelectionConfig struct {
	// Every is the number of environment steps between candidates; 0 (default) is
	// off.
	Every int `yaml:"every,omitempty"`
	// Fidelity is the cluster model candidates are evaluated on: request (default,
	// the discrete-event simulator, as experiments evaluate a policy) or fluid (the
	// fluid model, faster and approximate).
	Fidelity string `yaml:"fidelity,omitempty"`
	// MaxActionsVsOracle bounds an eligible candidate's scaling actions on each
	// window as a multiple of the oracle's there (the oracle with its default
	// parameters, run once per window), as the benchmark's rule does. Default 3;
	// negative: no bound.
	MaxActionsVsOracle float64 `yaml:"max_actions_vs_oracle,omitempty" yamldoc:"nozero"`
}

// ValidationWindow is one window candidates are evaluated on, as an experiment's
// evaluation cell runs a policy there.
type ValidationWindow struct {
	// Window is the traffic simulated; its Name labels selection.csv.
	Window *traces.Trace
	// Whole is the trace Window was cut from (the oracle looks ahead in it; nil:
	// Window itself) and Offset where Window begins in it. The policy's wall clock
	// starts at Epoch(Whole, Offset).
	Whole  *traces.Trace
	Offset time.Duration
	// Sim is the simulator for the window: the training service with its seed and
	// initial replicas.
	Sim sim.Config
}

func (w *ValidationWindow) whole() *traces.Trace {
	if w.Whole != nil {
		return w.Whole
	}
	return w.Window
}

func (w *ValidationWindow) epoch() time.Time {
	if w.Whole == nil {
		return Epoch(w.Window, 0)
	}
	return Epoch(w.Whole, w.Offset)
}

// validate fills the defaults of an enabled selection.
func (c *SelectionConfig) validate() []error {
	if c.Every == 0 {
		if *c != (SelectionConfig{}) {
			return []error{yamldoc.Errorf("selection", "fidelity or max_actions_vs_oracle set but every is 0 (selection off)")}
		}
		return nil
	}
	var errs []error
	if c.Every < 0 {
		errs = append(errs, yamldoc.Invalid("selection.every", c.Every, "must be > 0 (environment steps between candidates), or 0 for off"))
	}
	switch c.Fidelity {
	case "":
		c.Fidelity = env.FidelityRequest
	case env.FidelityRequest, env.FidelityFluid:
	default:
		errs = append(errs, yamldoc.Invalid("selection.fidelity", c.Fidelity, "want request or fluid"))
	}
	if c.MaxActionsVsOracle == 0 {
		c.MaxActionsVsOracle = 3
	}
	if math.IsNaN(c.MaxActionsVsOracle) || math.IsInf(c.MaxActionsVsOracle, 0) {
		errs = append(errs, yamldoc.Invalid("selection.max_actions_vs_oracle", c.MaxActionsVsOracle, "must be finite"))
	}
	return errs
}

// validationWindows cuts the validation part of every trace (stand-alone runs, whose
// traces are split by Split), each simulated with a seed of its own derived from the
// run's seed.
func (c *Config) validationWindows() ([]ValidationWindow, error) {
	var out []ValidationWindow
	for i, s := range c.Traces {
		at := fmt.Sprintf("traces[%d]", i)
		tr, err := SourceTrace(s)
		if err != nil {
			return nil, yamldoc.Within(at, err)
		}
		train, val, _, err := traces.Split(tr, c.Split)
		if err != nil {
			return nil, yamldoc.Within(at, err)
		}
		sc := c.Env.Sim
		sc.Seed = validationSeed(c.Seed, i, tr.Name)
		out = append(out, ValidationWindow{Window: val, Whole: tr, Offset: train.Duration(), Sim: WarmStart(sc, val)})
	}
	return out, nil
}

// validationSeed is the simulator seed of validation window i of a run.
func validationSeed(seed uint64, i int, name string) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "validation/%d/%s", i, name)
	z := seed ^ h.Sum64() + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// WarmStart is s starting w with the replicas its first rate needs Ready (unless
// s sets initial replicas, or is invalid: the simulator then reports it), as the
// environment starts every episode and experiments every window (warm_start).
func WarmStart(s sim.Config, w *traces.Trace) sim.Config {
	v := s
	if s.InitialReplicas != 0 || len(w.Rates) == 0 || v.Validate() != nil {
		return s
	}
	s.InitialReplicas = v.ReadyFor(w.Rates[0])
	return s
}

// hashValidation adds what selection depends on to a configuration hash: the
// windows' traffic, offsets and simulator seeds and initial replicas.
func (c *Config) hashValidation(w io.Writer) {
	if c.Selection.Every == 0 {
		return
	}
	for _, v := range c.Validation {
		fmt.Fprintf(w, "validation|%d|%d|%d|", v.Offset, v.Sim.Seed, v.Sim.InitialReplicas)
		hashTrace(w, v.Window)
		if v.Whole != nil {
			hashTrace(w, v.Whole)
		}
	}
}

// WindowResult is one policy's figures on one validation window.
type WindowResult struct {
	// Window names the window.
	Window string
	// Violations is the percentage of requests slower than the SLO or dropped; Cost
	// the replica-hours billed (at the simulator's price).
	Violations, Cost float64
	// Actions counts the changes of the desired replica count.
	Actions int
}

// candidate is one evaluated policy.
type candidate struct {
	Step    int
	Windows []WindowResult
}

// selectionState is what a checkpoint keeps of the selection: every candidate so
// far, the oracle's actions per window (computed once) and the best candidate's
// policy file.
type selectionState struct {
	Candidates    []candidate
	OracleActions []int
	Best          int // index into Candidates; -1 before the first
	BestPolicy    []byte
}

// rule is the eligibility rule of the benchmark applied to candidates.
type rule struct {
	budget     float64 // percent of requests
	maxActions float64 // multiple of the oracle's actions; <= 0 no bound
	oracle     []int
}

// eligible: on every window violations at most the budget and scaling actions at
// most maxActions times the oracle's.
func (r rule) eligible(c candidate) bool {
	for i, w := range c.Windows {
		if w.Violations > r.budget {
			return false
		}
		if r.maxActions > 0 && i < len(r.oracle) && float64(w.Actions) > r.maxActions*float64(r.oracle[i]) {
			return false
		}
	}
	return true
}

func (c candidate) cost() float64 {
	s := 0.0
	for _, w := range c.Windows {
		s += w.Cost
	}
	return s
}

func (c candidate) worst() float64 {
	m := math.Inf(-1)
	for _, w := range c.Windows {
		m = max(m, w.Violations)
	}
	return m
}

// better reports whether a beats b: an eligible candidate beats an ineligible one;
// between eligible ones the lower total cost wins, between ineligible ones the
// lower worst-window violations (then the lower cost). Ties keep b (the earlier).
func (r rule) better(a, b candidate) bool {
	ea, eb := r.eligible(a), r.eligible(b)
	switch {
	case ea != eb:
		return ea
	case ea:
		return a.cost() < b.cost()
	case a.worst() != b.worst():
		return a.worst() < b.worst()
	default:
		return a.cost() < b.cost()
	}
}

// choose returns the index of the candidate the rule picks (the first of equals);
// -1 for none.
func (r rule) choose(cs []candidate) int {
	best := -1
	for i, c := range cs {
		if best < 0 || r.better(c, cs[best]) {
			best = i
		}
	}
	return best
}

// selector runs the selection inside the training loop.
type selector struct {
	rs    *runState
	cfg   SelectionConfig
	wins  []ValidationWindow
	rule  rule
	st    selectionState
	next  int // step of the next candidate
	steps int // step of the last candidate, -1 before the first
}

// newSelector returns nil when selection is off; on resume it restores the state of
// the checkpoint.
func (rs *runState) newSelector(ck *checkpoint) (*selector, error) {
	c := rs.cfg.Selection
	if c.Every == 0 {
		return nil, nil
	}
	s := &selector{rs: rs, cfg: c, wins: rs.cfg.Validation, st: selectionState{Best: -1}, steps: -1,
		rule: rule{budget: 100 * (1 - rs.cfg.Env.Sim.SLO.Target), maxActions: c.MaxActionsVsOracle}}
	if ck != nil {
		if len(ck.Selection) == 0 {
			return nil, fmt.Errorf("%s: no selection state saved", filepath.Join(rs.dir, CheckpointFile))
		}
		if err := gob.NewDecoder(bytes.NewReader(ck.Selection)).Decode(&s.st); err != nil {
			return nil, fmt.Errorf("%s: selection: %w", filepath.Join(rs.dir, CheckpointFile), err)
		}
		if n := len(s.st.Candidates); n > 0 {
			s.steps = s.st.Candidates[n-1].Step
		}
	} else if c.MaxActionsVsOracle > 0 {
		for i := range s.wins {
			w := &s.wins[i]
			sc := rs.evalSim(w)
			a, err := agents.New("oracle", nil, agents.Context{Sim: sc, Trace: w.whole(), Start: w.Offset})
			if err != nil {
				return nil, fmt.Errorf("selection: oracle on %s: %w", w.Window.Name, err)
			}
			r, err := runWindow(sc, w.Window, a, c.Fidelity)
			if err != nil {
				return nil, rs.interrupted(fmt.Errorf("selection: oracle on %s: %w", w.Window.Name, err))
			}
			s.st.OracleActions = append(s.st.OracleActions, r.Actions)
		}
	}
	s.rule.oracle = s.st.OracleActions
	s.next = nextCheckpoint(max(0, s.steps), c.Every)
	return s, nil
}

// interrupted returns ctx's error in place of err when the run was interrupted.
func (rs *runState) interrupted(err error) error {
	if e := rs.ctx.Err(); e != nil {
		return e
	}
	return err
}

// evalSim is a window's simulator, stopping once the run's context is done.
func (rs *runState) evalSim(w *ValidationWindow) sim.Config {
	sc := w.Sim
	sc.Interrupt = func() bool { return rs.ctx.Err() != nil }
	return sc
}

// due evaluates the learner's policy when a candidate is due (Every steps since the
// last one, or the end).
func (s *selector) due(l learner.Learner) error {
	if s == nil || l.Steps() == s.steps || (l.Steps() < s.next && !l.Done()) {
		return nil
	}
	p, err := s.rs.export(l)
	if err != nil {
		return err
	}
	return s.consider(p, l.Steps())
}

// consider evaluates p (the policy at step) on every window and keeps it if the
// rule prefers it to the best so far.
func (s *selector) consider(p *policy.Policy, step int) error {
	c := candidate{Step: step}
	for i := range s.wins {
		w := &s.wins[i]
		r, err := s.evaluate(p, step, i)
		if err != nil {
			return s.rs.interrupted(fmt.Errorf("selection: step %d on %s: %w", step, w.Window.Name, err))
		}
		r.Window = w.Window.Name
		c.Windows = append(c.Windows, r)
	}
	s.st.Candidates = append(s.st.Candidates, c)
	s.steps, s.next = step, nextCheckpoint(step, s.cfg.Every)
	if n := len(s.st.Candidates) - 1; s.rule.choose(s.st.Candidates) == n {
		b, err := p.Marshal()
		if err != nil {
			return err
		}
		s.st.Best, s.st.BestPolicy = n, b
	}
	return nil
}

// evaluate runs policy p (of the given step) on validation window i.
func (s *selector) evaluate(p *policy.Policy, step, i int) (WindowResult, error) {
	if f := s.rs.opt.evaluate; f != nil {
		return f(step, i), nil
	}
	return Evaluate(s.rs.ctx, p, s.wins[i], s.cfg.Fidelity)
}

// Evaluate runs p on a validation window as selection runs a candidate (Autoscaler
// and the simulator of the fidelity, request or fluid), stopping with ctx's error
// once ctx is done.
func Evaluate(ctx context.Context, p *policy.Policy, w ValidationWindow, fidelity string) (WindowResult, error) {
	sc := w.Sim
	sc.Interrupt = func() bool { return ctx.Err() != nil }
	a, err := Autoscaler(p, sc, w.epoch())
	if err != nil {
		return WindowResult{}, err
	}
	r, err := runWindow(sc, w.Window, a, fidelity)
	if e := ctx.Err(); e != nil {
		return WindowResult{}, e
	}
	r.Window = w.Window.Name
	return r, err
}

// exported is the policy file Export gives for a checkpoint: the best candidate so
// far with selection on, else the checkpointed state's.
func (ck *checkpoint) exported() ([]byte, error) {
	if len(ck.Selection) == 0 {
		return ck.Policy, nil
	}
	var st selectionState
	if err := gob.NewDecoder(bytes.NewReader(ck.Selection)).Decode(&st); err != nil {
		return nil, fmt.Errorf("selection: %w", err)
	}
	if st.Best < 0 {
		return ck.Policy, nil
	}
	return st.BestPolicy, nil
}

// snapshot is the state for a checkpoint.
func (s *selector) snapshot() ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&s.st); err != nil {
		return nil, fmt.Errorf("selection: %w", err)
	}
	return buf.Bytes(), nil
}

// finish evaluates the last policy if it is not a candidate yet, writes it to
// policy-last.json and the candidates to selection.csv, and returns the selected
// policy.
func (s *selector) finish(l learner.Learner, last *policy.Policy) (*policy.Policy, error) {
	if l.Steps() != s.steps {
		if err := s.consider(last, l.Steps()); err != nil {
			return nil, err
		}
	}
	if err := last.Save(filepath.Join(s.rs.dir, PolicyLastFile)); err != nil {
		return nil, err
	}
	if err := policy.WriteFileAtomic(filepath.Join(s.rs.dir, SelectionFile), s.csv()); err != nil {
		return nil, err
	}
	return policy.Unmarshal(s.st.BestPolicy)
}

// selectionColumns is the header of selection.csv.
var selectionColumns = []string{"step", "window", "slo_violations_percent", "cost", "scaling_actions", "oracle_actions", "eligible", "chosen"}

// csv renders selection.csv: one row per candidate and window, with the
// candidate's eligibility (every window) and whether it was chosen.
func (s *selector) csv() []byte {
	var b strings.Builder
	b.WriteString(strings.Join(selectionColumns, ",") + "\n")
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for i, c := range s.st.Candidates {
		el := s.rule.eligible(c)
		for j, w := range c.Windows {
			oracle := ""
			if j < len(s.st.OracleActions) {
				oracle = strconv.Itoa(s.st.OracleActions[j])
			}
			fmt.Fprintf(&b, "%d,%s,%s,%s,%d,%s,%t,%t\n", c.Step, w.Window, f(w.Violations), f(w.Cost), w.Actions, oracle, el, i == s.st.Best)
		}
	}
	return []byte(b.String())
}

// runWindow runs one window under a and returns its violations, cost and scaling
// actions, on the request-level simulator (sim.Run, as experiments evaluate) or the
// fluid model.
func runWindow(sc sim.Config, w *traces.Trace, a sim.Autoscaler, fidelity string) (WindowResult, error) {
	if fidelity != env.FidelityFluid {
		res, err := sim.Run(sc, w, a)
		if err != nil {
			return WindowResult{}, err
		}
		return WindowResult{Violations: res.Summary.SLOViolations, Cost: res.Summary.Cost, Actions: res.Summary.ScalingActions}, nil
	}
	m, err := fluid.New(sc, w, fluid.Options{NoLatencyQuantiles: true})
	if err != nil {
		return WindowResult{}, err
	}
	if r, ok := a.(sim.Recorder); ok {
		m.SetRecorder(r)
	}
	cfg := m.Config()
	var violations int64
	actions, prev := 0, -1
	obs := m.Observe()
	for first := true; ; first = false {
		d := min(max(a.Decide(obs), cfg.Min()), cfg.MaxReplicas)
		// As sim.Run records them: the decision at time zero is no action.
		if !first && prev >= 0 && d != prev {
			actions++
		}
		if !first {
			prev = d
		}
		var done bool
		obs, done = m.Step(d)
		if err := m.Err(); err != nil {
			return WindowResult{}, err
		}
		violations += int64(obs.SLOViolations)
		if done {
			break
		}
	}
	t := m.Totals()
	out := WindowResult{Cost: t.Cost, Actions: actions}
	if t.Arrived > 0 {
		out.Violations = 100 * float64(violations) / float64(t.Arrived)
	}
	return out, nil
}

// errNoValidation is the error of a selection without validation windows.
var errNoValidation = errors.New("selection: no validation windows (set Config.Validation, or give traces to split)")
