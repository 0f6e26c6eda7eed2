package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/experiments/train"
	"github.com/intelliscale/intelliscale/internal/buildinfo"
	"github.com/intelliscale/intelliscale/internal/outpath"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

func init() {
	register(command{
		name:    "export",
		summary: "write the policy file of a training run (its latest checkpoint, or with selection the candidate chosen on validation), or check one",
		run:     runExport,
	})
}

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "--run DIR [--run DIR2 ...] [--out FILE] | --check FILE\n\n"+
		"Writes the versioned policy file (weights, normaliser, features, actions, training\n"+
		"metadata, checksum) of the latest checkpoint of a training run, which may still be\n"+
		"running (with checkpoint selection on, the candidate chosen on the validation windows\n"+
		"by then: a finished run's policy.json); or, with --check, validates a policy file and\n"+
		"prints what it holds.\n"+
		"Several --run give one ensemble policy: the runs' networks decide together (--vote;\n"+
		"runs of one configuration with different seeds).", stderr)
	var runs runList
	fs.Var(&runs, "run", "training run directory (holding checkpoint.bin); repeat for an ensemble of the runs")
	vote := fs.String("vote", policy.VoteCautious, "with several --run: how the networks decide together, cautious (the greedy action asking for the most replicas) or median (of their greedy actions)")
	out := fs.String("out", "", "policy file to write (default DIR/policy-step<N>.json, DIR the first --run, or the first free DIR/policy-step<N>-2.json, -3, ... when that holds another policy: the default never replaces a file; required for an ensemble); an existing file is replaced only when it is a policy file")
	check := fs.String("check", "", "policy file to validate and describe")
	params := fs.String("params", "", "deploy-time parameters written into the policy as inline YAML, e.g. 'headroom_scale: 0.8' (the headroom 1 - target of every target utilisation x0.8: hotter, cheaper)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q: give the run directory as --run DIR, the file to check as --check FILE", fs.Arg(0))
	case len(runs) > 0 && *check != "":
		return errors.New("--check and --run exclude each other: --check FILE validates a policy file, --run DIR writes one")
	case len(runs) == 0 && *check == "":
		fs.Usage()
		return errUsage
	}
	if len(runs) < 2 && isSet(fs, "vote") {
		return fmt.Errorf("--vote: only with several --run (an ensemble)")
	}
	// --check writes nothing and changes nothing: a flag of the writing form
	// beside it would be ignored (an empty value counts as not given).
	for _, f := range []struct{ name, value string }{{"out", *out}, {"params", *params}} {
		if *check != "" && f.value != "" {
			return fmt.Errorf("--%s: only with --run (--check FILE describes the file as it is; to write it with other params, export its run)", f.name)
		}
	}
	if *check != "" {
		p, err := policy.Load(*check)
		if err != nil && train.IsCheckpoint(*check) {
			return fmt.Errorf("%s is a training checkpoint, not a policy file: export it with --run %s", *check, filepath.Dir(*check))
		}
		if err != nil {
			return err
		}
		describePolicy(stdout, *check, p)
		return nil
	}
	if len(runs) > 1 && *out == "" {
		return fmt.Errorf("--out: required with several --run (an ensemble has no run directory of its own)")
	}
	for i, r := range runs {
		for _, q := range runs[:i] {
			if sameFile(r, q) {
				return fmt.Errorf("--run %s: the same run directory as --run %s: an ensemble is of runs of one configuration with different seeds", r, q)
			}
		}
	}
	g := runDirGuard(runs...)
	if err := checkOutput(g, fs, "out", *out); err != nil {
		return err
	}
	replaced, err := replaceablePolicy(*out)
	if err != nil {
		return err
	}
	ps := make([]*policy.Policy, len(runs))
	for i, r := range runs {
		p, err := train.Export(r)
		if err != nil {
			return err
		}
		ps[i] = p
	}
	p := ps[0]
	if len(ps) > 1 {
		e, err := policy.Ensemble(ps, *vote)
		var me *policy.MemberError
		if errors.As(err, &me) {
			var same *policy.SameNetworkError
			switch run := runs[me.Index]; {
			case errors.As(me.Err, &same):
				return fmt.Errorf("--run %s: its network is that of --run %s: the same training twice (an ensemble is of runs of one configuration with different seeds)", run, runs[same.Of])
			case errors.Is(me.Err, policy.ErrActionOrder):
				return fmt.Errorf("--run %s: %w: the runs' env.actions must be in increasing order", run, me.Err)
			case me.Index > 0:
				return fmt.Errorf("--run %s: %w (the first --run is %s)", run, me.Err, runs[0])
			default:
				return fmt.Errorf("--run %s: %w", run, me.Err)
			}
		}
		if err != nil {
			return err
		}
		p = e
	}
	p.Training.Build = buildinfo.Read().String()
	node, err := yamldoc.ParseInline(*params)
	if err != nil {
		return fmt.Errorf("--%w", err)
	}
	if err := applyDeploy(p, node); err != nil {
		return err
	}
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	if *out != "" {
		if replaced != nil && replaced.Checksum == p.Checksum {
			fmt.Fprintf(stderr, "export: %s already holds this policy; left as it is\n", *out)
		} else {
			if err := policy.WriteFileAtomic(*out, data); err != nil {
				return err
			}
			if replaced != nil {
				fmt.Fprintf(stderr, "export: replaced %s, which held %s\n", *out, policyName(replaced))
			}
		}
		describePolicy(stdout, *out, p)
		return nil
	}
	def := filepath.Join(runs[0], fmt.Sprintf("policy-step%d.json", p.Training.Steps))
	path, same := freeName(def, func(name string) bool {
		b, err := os.ReadFile(name)
		return err == nil && bytes.Equal(b, data)
	})
	if same {
		fmt.Fprintf(stderr, "export: %s already holds this policy; left as it is\n", path)
	} else {
		if err := g.File("--out", path); err != nil {
			return fmt.Errorf("%w (the default --out; give another --out)", err)
		}
		if path != def {
			fmt.Fprintf(stderr, "export: %s holds another policy, which the default --out never replaces; writing %s\n", def, path)
		}
		if err := policy.WriteFileAtomic(path, data); err != nil {
			return err
		}
	}
	describePolicy(stdout, path, p)
	return nil
}

// runDirGuard is a guard knowing the files of the training runs in dirs that a
// command must never replace: its checkpoint (what --resume continues), its
// configuration and its progress log.
func runDirGuard(dirs ...string) *outpath.Guard {
	var g outpath.Guard
	for _, dir := range dirs {
		g.Protect("the run's checkpoint ("+train.CheckpointFile+")", filepath.Join(dir, train.CheckpointFile))
		g.Protect("the run's configuration ("+train.ConfigFile+")", filepath.Join(dir, train.ConfigFile))
		g.Protect("the run's progress log ("+train.ProgressFile+")", filepath.Join(dir, train.ProgressFile))
	}
	return &g
}

// replaceablePolicy checks that the --out file path, when it exists, may be
// replaced by the policy: it holds a policy file (returned), or nothing. Any other
// file (a checkpoint, a trace, a configuration) is refused, naming it.
func replaceablePolicy(path string) (*policy.Policy, error) {
	if fi, err := os.Stat(path); path == "" || err != nil || fi.Size() == 0 {
		return nil, nil // nothing there; the guard has checked the path
	}
	old, err := policy.Load(path)
	switch {
	case err == nil:
		return old, nil
	case train.IsCheckpoint(path):
		return nil, fmt.Errorf("--out %s is a training checkpoint: refusing to replace it with a policy file; choose another --out", path)
	}
	why := strings.TrimSuffix(strings.TrimPrefix(err.Error(), path+": policy: "), ": not a policy file")
	return nil, fmt.Errorf("--out %s is not a policy file (%s): refusing to replace it; choose another --out", path, why)
}

// sameFile reports whether paths a and b name one file or directory (after
// symbolic links), or, when either cannot be read, are one path when cleaned.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return os.SameFile(fa, fb)
}

// policyName says which policy p is: "a ppo policy (training seed 1)", "a ppo
// ensemble of 3 networks (training seeds 1, 2, 3)".
func policyName(p *policy.Policy) string {
	if len(p.Members) == 0 {
		return fmt.Sprintf("a %s policy (training seed %d)", p.Algorithm, p.Training.Seed)
	}
	return fmt.Sprintf("a %s ensemble of %d networks (training seeds %s)", p.Algorithm, len(p.Members)+1, seeds(p))
}

// seeds lists the training seeds of p's networks: "1, 2, 3".
func seeds(p *policy.Policy) string {
	s := []string{fmt.Sprint(p.Training.Seed)}
	for _, m := range p.Members {
		s = append(s, fmt.Sprint(m.Training.Seed))
	}
	return strings.Join(s, ", ")
}

// runList is a repeatable flag: every --run given, in order.
type runList []string

func (r *runList) String() string { return strings.Join(*r, ",") }

func (r *runList) Set(v string) error {
	if v == "" {
		return fmt.Errorf("empty directory")
	}
	*r = append(*r, v)
	return nil
}

func describePolicy(w io.Writer, path string, p *policy.Policy) {
	fmt.Fprintf(w, "%s: policy file version %d, %s, network %v (%s), %d parameters\n",
		path, p.Version, p.Algorithm, p.Network.Sizes, p.Network.Activation, len(p.Network.Params))
	fmt.Fprintf(w, "  features: %s\n", strings.Join(p.Features.Names(), ", "))
	fmt.Fprintf(w, "  actions: %v; normalised observations: %v\n", p.Actions, p.Normaliser != nil)
	if n := len(p.Members); n > 0 {
		how := "the median of their greedy actions"
		if p.Vote == policy.VoteCautious {
			how = "the greedy action asking for the most replicas"
		}
		fmt.Fprintf(w, "  ensemble of %d networks (training seeds %s): each decision is %s\n", n+1, seeds(p), how)
		lo, hi := p.Training.Steps, p.Training.Steps
		for _, m := range p.Members {
			lo, hi = min(lo, m.Training.Steps), max(hi, m.Training.Steps)
		}
		if lo != hi {
			fmt.Fprintf(w, "  its networks trained %d to %d steps (the line below is the first network's)\n", lo, hi)
		}
	}
	if p.HeadroomScale != 0 {
		fmt.Fprintf(w, "  headroom scale: %g (every target utilisation t runs at 1 - %g*(1-t))\n", p.HeadroomScale, p.HeadroomScale)
	}
	fmt.Fprintf(w, "  trained %d steps, %d episodes, seed %d on %s; control interval %gs\n",
		p.Training.Steps, p.Training.Episodes, p.Training.Seed, strings.Join(p.Training.Traces, ", "), p.Sim.ControlIntervalSeconds)
	if p.Training.Build != "" {
		fmt.Fprintf(w, "  written by %s\n", p.Training.Build)
	}
	fmt.Fprintf(w, "  checksum %s\n", p.Checksum)
}
