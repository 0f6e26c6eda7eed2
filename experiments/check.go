package experiments

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// paramsChecker is implemented by learners that can validate a policy's training
// configuration without training (the default learners do).
type paramsChecker interface {
	CheckParams(spec PolicySpec, simCfg sim.Config, windows []*traces.Trace) error
}

// Check does everything that can fail before any work: it loads every trace and
// checks its windows, loads the training traffic of every learned policy that has
// its own, builds every rule policy on every trace (every grid value of an
// hpa-tuned one) and validates the training configuration of every learned
// policy. Errors name the config file, line and field; all of them are reported.
// cfg must be validated (Parse and Load do).
func Check(cfg *Config, b Backend) error {
	_, _, err := check(cfg, b)
	return err
}

// check is Check returning the loaded traces and, by policy name, the training
// traffic of the policies that have their own, for the runner.
func check(cfg *Config, b Backend) (map[string]*loadedTrace, map[string][]*traces.Trace, error) {
	if b.LoadTrace == nil || b.NewRule == nil {
		return nil, nil, errors.New("experiment: backend incomplete")
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
		loaded[spec.Name] = &loadedTrace{spec: spec, full: tr, bounds: bounds}
	}
	if len(errs) > 0 {
		return nil, nil, cfg.locate(errors.Join(errs...))
	}
	var windows []*traces.Trace
	for _, spec := range cfg.Traces {
		lt := loaded[spec.Name]
		w := sliceTrace(lt.full, lt.bounds[SplitTrain])
		w.Name = spec.Name
		windows = append(windows, w)
	}
	traffic := map[string][]*traces.Trace{}
	for i := range cfg.Policies {
		p := &cfg.Policies[i]
		at := fmt.Sprintf("policies[%d]", i)
		switch {
		case Learned(p.Kind):
			wins := windows
			if p.Train.Traffic != nil {
				trs, err := loadTraffic(b, *p.Train.Traffic)
				if err != nil {
					errs = append(errs, yamldoc.Within(at+".train.traffic", err))
					continue
				}
				traffic[p.Name], wins = trs, trs
				if p.Train.Windows {
					wins = append(slices.Clip(windows), trs...)
				}
			}
			l := b.Learners[p.Kind]
			if l == nil {
				errs = append(errs, yamldoc.Errorf(at+".kind", "no learner for kind %s", p.Kind))
			} else if pc, ok := l.(paramsChecker); ok {
				errs = append(errs, yamldoc.Within(at, pc.CheckParams(*p, cfg.Sim, wins)))
			}
		default:
			for _, spec := range cfg.Traces {
				if err := checkRule(cfg, b, p, loaded[spec.Name]); err != nil {
					errs = append(errs, yamldoc.Within(at, err))
					break
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, cfg.locate(err)
	}
	return loaded, traffic, nil
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
		var fe *yamldoc.FieldError
		if errors.As(err, &fe) && fe == err && fe.Path == "params."+p.Tune.Param {
			c := *fe
			c.Line = 0
			c.Path = fmt.Sprintf("tune.grid[%d]", j)
			if strings.HasPrefix(fe.Err.Error(), "unknown key") {
				c.Path, c.Value = "tune.param", nil
				c.Err = fmt.Errorf("%q: not a parameter of hpa", p.Tune.Param)
			}
			return &c
		}
		if err != nil {
			return err
		}
	}
	return nil
}
