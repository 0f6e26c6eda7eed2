package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/agents"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// paramsChecker is implemented by learners that can validate a policy's training
// configuration without training (the default learners do).
type paramsChecker interface {
	CheckParams(spec PolicySpec, simCfg sim.Config, windows []*traces.Trace) error
}

// fileChecker is implemented by learners that can validate a policy file
// (PolicySpec.File, its bytes data) and its deploy-time params for the
// experiment's service without running it (the default learners do).
type fileChecker interface {
	CheckFile(spec PolicySpec, data []byte, simCfg sim.Config) error
}

// checked is what check loaded, for the runner.
type checked struct {
	traces map[string]*loadedTrace
	// traffic is the training traffic of the policies that have their own, and
	// files the bytes of the policy files (PolicySpec.File) as checked, by name.
	traffic map[string][]*traces.Trace
	files   map[string][]byte
}

// Check does everything that can fail before any work: it loads every trace and
// checks its windows, loads the training traffic of every learned policy that has
// its own, builds every rule policy on every trace (every grid value of an
// hpa-tuned one, every sweep value) and validates the training configuration of
// every learned policy. Errors name the config file, line and field; all of them
// are reported.
// cfg must be validated (Parse and Load do).
func Check(cfg *Config, b Backend) error {
	_, err := CheckNotes(cfg, b)
	return err
}

// CheckNotes is Check, also returning what is worth a look but not an error: per
// trace, as the experiment crops and scales it, a run of zero buckets suspected of
// being missing data or an outage (traces.Stats.ZeroRunWarning), and buckets whose
// demand exceeds the service's max_replicas.
func CheckNotes(cfg *Config, b Backend) ([]string, error) {
	c, err := check(cfg, b)
	if err != nil {
		return nil, err
	}
	svc := cfg.Sim // with its defaults filled, as every run fills them
	if err := svc.Validate(); err != nil {
		return nil, yamldoc.Within("sim", err)
	}
	var notes []string
	// An SLO the service time alone misses is no trace's fault: say so once, and
	// do not blame max_replicas for it below.
	unattainable := svc.UnattainableSLO()
	if unattainable != "" {
		notes = append(notes, cfg.locate(yamldoc.Errorf("sim.slo", "%s", unattainable)).Error())
	}
	if svc.Min() == 0 {
		for i, p := range cfg.Policies {
			kind := p.Kind
			if kind == KindHPATuned {
				kind = "hpa"
			}
			if slices.Contains(agents.Names(), kind) && !agents.ScalesFromZero(kind) {
				notes = append(notes, cfg.locate(yamldoc.Errorf(fmt.Sprintf("policies[%d]", i), "%s", agents.NoScaleFromZero(p.Name))).Error())
			}
		}
	}
	for i, ts := range cfg.Traces {
		lt := c.traces[ts.Name]
		if lt == nil || lt.full == nil {
			continue
		}
		if st, err := traces.Info(lt.full); err == nil && st.ZeroRunWarning() != "" {
			st.Name = fmt.Sprintf("trace %q", ts.Name)
			note := yamldoc.Errorf(fmt.Sprintf("traces[%d]", i), "%s; crop around it (start, length) if it is missing data", st.ZeroRunWarning())
			notes = append(notes, cfg.locate(note).Error())
		}
		// What loading and shaping the trace guessed, dropped or warn of (a rescale
		// that makes each request a burst): the trace is read again to hear it.
		if _, err := ts.Source.TraceNotes(func(n error) {
			// Each note is printed as a warning: its own "warning:" would say it twice.
			text := cfg.locate(yamldoc.Within(fmt.Sprintf("traces[%d]", i), n)).Error()
			notes = append(notes, strings.Replace(text, ": warning: ", ": ", 1))
		}); err != nil {
			return nil, yamldoc.Within(fmt.Sprintf("traces[%d]", i), err)
		}
		notes = append(notes, windowNotes(cfg, i, lt)...)
		if n, peak := svc.Capped(lt.full.Rates, sim.CappedLimit); n > 0 && unattainable == "" {
			note := yamldoc.Errorf(fmt.Sprintf("traces[%d]", i), "trace %q: demand exceeds sim.max_replicas %d in %d of %d buckets (%s replicas needed): the service is held below it there; raise max_replicas", ts.Name, svc.MaxReplicas, n, len(lt.full.Rates), sim.CappedNeed(peak))
			notes = append(notes, cfg.locate(note).Error())
		}
	}
	return notes, nil
}

// minJudgeWindow is the shortest validation or test window CheckNotes lets pass
// without a note: shorter ones hold a handful of decisions, too few to choose or
// judge a policy on.
const minJudgeWindow = time.Hour

// windowNotes notes the evaluated validation and test windows of traces[i] that
// its buckets widened (an explicit window is run as the whole buckets it touches)
// or that are shorter than minJudgeWindow.
func windowNotes(cfg *Config, i int, lt *loadedTrace) []string {
	var notes []string
	bucket := lt.full.Bucket
	for _, split := range []string{SplitValidation, SplitTest} {
		if !slices.Contains(cfg.Eval, split) {
			continue
		}
		b := lt.bounds[split]
		from, to := time.Duration(b.From)*bucket, time.Duration(b.To)*bucket
		at := fmt.Sprintf("traces[%d]", i)
		if w := lt.spec.Windows; w != nil {
			given := w.Validation
			if split == SplitTest {
				given = w.Test
			}
			at += ".windows." + split
			if given.Start != from || given.End != to {
				notes = append(notes, cfg.locate(yamldoc.Errorf(at, "trace %q: the %s window [%s, %s) runs as [%s, %s), the whole buckets of %s it touches",
					lt.spec.Name, split, yamldoc.Duration(given.Start), yamldoc.Duration(given.End), yamldoc.Duration(from), yamldoc.Duration(to), yamldoc.Duration(bucket))).Error())
			}
		}
		if d := to - from; d < minJudgeWindow {
			notes = append(notes, cfg.locate(yamldoc.Errorf(at, "trace %q: the %s window lasts %s, %d control intervals: too few decisions to %s a policy on; give it an hour or more",
				lt.spec.Name, split, yamldoc.Duration(d), int(d/cfg.controlInterval), map[string]string{SplitValidation: "choose", SplitTest: "judge"}[split])).Error())
		}
	}
	return notes
}

// checkContext is check, returning at once when ctx is done: loading large trace
// files takes seconds, and a Ctrl-C should not wait for it. The check writes
// nothing, so the abandoned one ends with the process (or, in a library, when it
// has finished reading).
func checkContext(ctx context.Context, cfg *Config, b Backend) (*checked, error) {
	type result struct {
		c   *checked
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := check(cfg, b)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// check is Check returning what it loaded, for the runner.
func check(cfg *Config, b Backend) (*checked, error) {
	if b.LoadTrace == nil || b.NewRule == nil {
		return nil, errors.New("experiment: backend incomplete")
	}
	loaded := map[string]*loadedTrace{}
	var errs []error
	for i, spec := range cfg.Traces {
		at := fmt.Sprintf("traces[%d]", i)
		tr, err := b.LoadTrace(spec)
		if err == nil {
			err = tr.Validate()
		}
		if err != nil {
			var fe *yamldoc.FieldError
			if spec.File != "" && !errors.As(err, &fe) {
				at += ".file" // the file cannot be read
			}
			errs = append(errs, yamldoc.Within(at, err))
			continue
		}
		bounds, err := windowBounds(spec, len(tr.Rates), tr.Bucket)
		if err != nil {
			field := at + ".split"
			if spec.Windows != nil {
				field = at + ".windows"
				for _, w := range []string{SplitTrain, SplitValidation, SplitTest} {
					if strings.Contains(err.Error(), " "+w+" window") {
						field += "." + w
						break
					}
				}
			}
			errs = append(errs, yamldoc.Within(field, err))
			continue
		}
		if err := checkBuckets(spec, bounds, tr.Bucket, cfg.controlInterval); err != nil {
			errs = append(errs, yamldoc.Within(at, err))
			continue
		}
		loaded[spec.Name] = &loadedTrace{spec: spec, full: tr, bounds: bounds}
	}
	if len(errs) > 0 {
		return nil, cfg.locate(errors.Join(errs...))
	}
	traffic, files := map[string][]*traces.Trace{}, map[string][]byte{}
	// trained checks an ensemble's deploy-time params and sweep against the
	// training of the learned policy it is of, by that policy's name, once that
	// policy's own check passed; ensembles lists the ensembles' indexes.
	trained, ensembles := map[string]func(PolicySpec) error{}, []int(nil)
	for i := range cfg.Policies {
		p := &cfg.Policies[i]
		at := fmt.Sprintf("policies[%d]", i)
		switch {
		case Learned(p.Kind) && p.File != "":
			data, err := readPolicyFile(p.File)
			if err != nil {
				errs = append(errs, yamldoc.Errorf(at+".file", "%v", err))
				continue
			}
			files[p.Name] = data
			l := b.Learners[p.Kind]
			if l == nil {
				errs = append(errs, yamldoc.Errorf(at+".kind", "no learner for kind %s", p.Kind))
			} else if fc, ok := l.(fileChecker); ok {
				errs = append(errs, yamldoc.Within(at, fc.CheckFile(*p, data, cfg.Sim)))
			}
		case Learned(p.Kind) && p.EnsembleOf != "":
			ensembles = append(ensembles, i)
		case Learned(p.Kind):
			if p.Train.Traffic != nil {
				trs, err := loadTraffic(b, *p.Train.Traffic)
				if err != nil {
					errs = append(errs, yamldoc.Within(at+".train.traffic", err))
					continue
				}
				traffic[p.Name] = trs
			}
			wins, _ := trainingTraces(cfg, loaded, traffic[p.Name], p)
			l := b.Learners[p.Kind]
			if l == nil {
				errs = append(errs, yamldoc.Errorf(at+".kind", "no learner for kind %s", p.Kind))
			} else if pc, ok := l.(paramsChecker); ok {
				err := pc.CheckParams(*p, cfg.Sim, wins)
				errs = append(errs, yamldoc.Within(at, err))
				if err == nil {
					trained[p.Name] = func(e PolicySpec) error {
						s := *p
						s.Params, s.Sweep = e.Params, e.Sweep
						return pc.CheckParams(s, cfg.Sim, wins)
					}
				}
			}
		default:
			for _, err := range checkRulePolicy(cfg, b, p, loaded) {
				errs = append(errs, yamldoc.Within(at, err))
			}
		}
	}
	// An ensemble runs with its own deploy-time params the networks another policy
	// trains: they are checked as that policy's would be.
	for _, i := range ensembles {
		p := &cfg.Policies[i]
		if check := trained[p.EnsembleOf]; check != nil {
			errs = append(errs, yamldoc.Within(fmt.Sprintf("policies[%d]", i), check(*p)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, cfg.locate(err)
	}
	return &checked{traces: loaded, traffic: traffic, files: files}, nil
}

// checkBuckets checks a trace's windows as cut into its buckets, what the runs
// see: explicit windows (disjoint in time, Validate checks) must not share a bucket
// through a boundary inside one, and the validation and test windows of a split
// must hold at least one control interval.
func checkBuckets(spec TraceSpec, bounds map[string]bucketRange, bucket, controlInterval time.Duration) error {
	order := []string{SplitTrain, SplitValidation, SplitTest}
	if spec.Windows != nil {
		for j, b := range order {
			for _, a := range order[:j] {
				x, y := bounds[a], bounds[b]
				if x.From < y.To && y.From < x.To {
					at := time.Duration(max(x.From, y.From)) * bucket
					return yamldoc.Errorf("windows."+b, "trace %q: the %s and %s windows share the bucket at %s (buckets of %s): put the boundary on a bucket boundary",
						spec.Name, a, b, yamldoc.Duration(at), yamldoc.Duration(bucket))
				}
			}
		}
		return nil
	}
	for _, name := range order[1:] {
		if d := time.Duration(bounds[name].To-bounds[name].From) * bucket; d < controlInterval {
			return yamldoc.Errorf("split", "trace %q: %s window is %s long, shorter than sim.control_interval (%s)",
				spec.Name, name, yamldoc.Duration(d), yamldoc.Duration(controlInterval))
		}
	}
	return nil
}

// loadTraffic loads a policy's own training traffic with the backend, every trace
// whole; errors name the field a trace came from ("random", "traces[1].file").
func loadTraffic(b Backend, t traces.Traffic) ([]*traces.Trace, error) {
	srcs, paths, err := t.Sources()
	if err != nil {
		return nil, err
	}
	out := make([]*traces.Trace, len(srcs))
	for i, src := range srcs {
		tr, err := b.LoadTrace(TraceSpec{Name: src.Name(), Source: src})
		if err == nil {
			err = tr.Validate()
		}
		if err != nil {
			var fe *yamldoc.FieldError
			at := paths[i]
			if src.File != "" && !errors.As(err, &fe) {
				at += ".file"
			}
			return nil, yamldoc.Within(at, err)
		}
		out[i] = tr
	}
	return out, nil
}

// checkRulePolicy builds a rule policy on every trace, then every variant of its
// sweep, as their evaluations would. A base that fails is reported alone (its
// variants share its params); a variant's error names the sweep field behind it,
// once for a parameter the policy does not have, else once per bad value.
func checkRulePolicy(cfg *Config, b Backend, p *PolicySpec, loaded map[string]*loadedTrace) []error {
	var errs []error
	for j, v := range p.variants() {
		for _, spec := range cfg.Traces {
			err := checkRule(cfg, b, &v.Spec, loaded[spec.Name])
			if err == nil {
				continue
			}
			if v.Base {
				return []error{err}
			}
			err = sweepError(p, j-1, err)
			errs = append(errs, err)
			if fe, ok := err.(*yamldoc.FieldError); ok && fe.Path == "sweep.param" {
				return errs // every value fails the same way
			}
			break
		}
	}
	return errs
}

// sweepError places the error of the variant of a rule policy at its sweep's value
// j: at sweep.param or sweep.values[j] when it is the knob's (atKnob), else at
// sweep.values[j].params.<field>, a field the value makes invalid in combination.
func sweepError(p *PolicySpec, j int, err error) error {
	at := fmt.Sprintf("sweep.values[%d]", j)
	if e, ok := atKnob(err, p.Sweep.Param, p.Kind, at, "sweep.param"); ok {
		return e
	}
	return yamldoc.Within(at, err)
}

// atKnob places err, from building a rule policy of kind with its parameter knob set
// to one value, at the field that gave the knob: paramAt when the policy has no such
// parameter (an unknown key, or a mapping where the policy has a number: a dotted
// path through a scalar parameter), valueAt when the value is the fault. ok is false
// for an error at any other field, returned as it is.
func atKnob(err error, knob, kind, valueAt, paramAt string) (_ error, ok bool) {
	var fe *yamldoc.FieldError
	if !errors.As(err, &fe) || fe != err {
		return err, false
	}
	path, ok := strings.CutPrefix(fe.Path, "params.")
	if !ok || (path != knob && !strings.HasPrefix(knob, path+".")) {
		return err, false
	}
	c := *fe
	c.Line = 0 // the line of the knob's field, not of the params built from it
	var ke *yamldoc.KindError
	notAKnob := errors.Is(fe.Err, yamldoc.ErrUnknownKey) || errors.As(fe.Err, &ke) && ke.Kind == "a mapping"
	if path == knob && !notAKnob {
		c.Path = valueAt
		return &c, true
	}
	c.Path, c.Value = paramAt, nil
	c.Err = fmt.Errorf("%q: not a parameter of %s", knob, kind)
	return &c, true
}

// checkRule builds a rule policy on lt as its evaluation would: an hpa-tuned policy
// once per grid value, an error in the tuned parameter naming tune.grid or
// tune.param.
func checkRule(cfg *Config, b Backend, p *PolicySpec, lt *loadedTrace) error {
	bd := lt.bounds[SplitTest]
	ec := EvalContext{Sim: cfg.Sim, Trace: lt.full, Start: time.Duration(bd.From) * lt.full.Bucket}
	if p.Kind != KindHPATuned {
		_, err := b.NewRule(p.Kind, nodeOrNil(&p.Params), ec)
		return err
	}
	for j, v := range p.Tune.Grid {
		_, err := b.NewRule(kindHPA, withParam(&p.Params, p.Tune.Param, v), ec)
		if e, ok := atKnob(err, p.Tune.Param, kindHPA, fmt.Sprintf("tune.grid[%d]", j), "tune.param"); ok {
			return e
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readPolicyFile reads a policy file (PolicySpec.File) once, for the check and
// the run's copy alike; a file larger than policy.MaxFileBytes is refused before
// it is read.
func readPolicyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case st.IsDir():
		return nil, fmt.Errorf("%s: is a directory", path)
	case st.Size() > policy.MaxFileBytes:
		return nil, fmt.Errorf("%s: %d bytes, more than %d: %w", path, st.Size(), policy.MaxFileBytes, policy.ErrTooLarge)
	}
	return io.ReadAll(io.LimitReader(f, policy.MaxFileBytes+1))
}
