package experiments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// Phases a Runner can be limited to.
const (
	RunAll      = "all"      // prepare, then evaluate (default)
	RunPrepare  = "prepare"  // tuning and training cells only
	RunEvaluate = "evaluate" // evaluation cells (and any dependency not yet on disk)
)

// Runner executes an experiment's matrix into a results directory.
type Runner struct {
	// Config is the validated experiment.
	Config *Config
	// Out is the results directory (layout in RESULTS.md).
	Out string
	// Backend wires the simulator, policies and traces; see DefaultBackend.
	Backend Backend
	// Workers bounds the cells run at once. Default Config.Workers.
	Workers int
	// Shard limits the run to one slice of the matrix. Default: all of it.
	Shard Shard
	// Phase is all (default), prepare or evaluate.
	Phase string
	// Prepared, when set, is a results directory whose finished tuning and training
	// cells are copied in instead of being recomputed (for example the merged output
	// of a sharded prepare phase). It must exist and hold a config.yaml, and a cell
	// is copied only when that config gives it the settings Config does (the
	// policy, its trace or seed, the sim section, the traces: cellSettings); a
	// cell produced with others stops the run before any work.
	Prepared string
	// BeforeWrite, when set, is called once the config, its traces and any
	// prepared cells have been checked, before the first file of Out is written
	// (a caller's own record of the run, such as the build, goes there: a refused
	// run leaves no directory behind).
	BeforeWrite func() error
	// Progress receives the progress display (nil: none).
	Progress io.Writer
	// Log receives notes and training logs (nil: none).
	Log io.Writer
}

// RunStats counts the cells of a run.
type RunStats struct {
	Ran, Skipped int
}

type loadedTrace struct {
	spec   TraceSpec
	full   *traces.Trace
	bounds map[string]bucketRange
}

type run struct {
	*Runner
	cfg    *Config
	traces map[string]*loadedTrace
	// traffic is the own training traffic of the policies that have it, by name.
	traffic  map[string][]*traces.Trace
	policies map[string]*PolicySpec
	log      io.Writer
	prog     *progress
}

// Run executes the selected cells, skipping those already finished in Out, and then
// rewrites Out/summary.csv from every finished evaluation cell.
func (r *Runner) Run(ctx context.Context) (RunStats, error) {
	var st RunStats
	if r.Config == nil {
		return st, errors.New("experiment runner: no config")
	}
	if r.Out == "" {
		return st, errors.New("experiment runner: no results directory")
	}
	phase := r.Phase
	if phase == "" {
		phase = RunAll
	}
	if phase != RunAll && phase != RunPrepare && phase != RunEvaluate {
		return st, fmt.Errorf("experiment runner: phase %q: must be all, prepare or evaluate", phase)
	}
	cfg := r.Config
	x := &run{Runner: r, cfg: cfg, traces: map[string]*loadedTrace{}, policies: map[string]*PolicySpec{}, log: r.Log}
	if x.log == nil {
		x.log = io.Discard
	}
	for _, v := range Variants(cfg) {
		p := &v.Spec
		x.policies[p.Name] = p
		if Learned(p.Kind) && r.Backend.Learners[p.Kind] == nil {
			return st, fmt.Errorf("policy %q: no learner for kind %s", p.Name, p.Kind)
		}
	}
	if r.Backend.Simulate == nil || r.Backend.NewRule == nil || r.Backend.LoadTrace == nil {
		return st, errors.New("experiment runner: backend incomplete")
	}
	// Everything that can fail is checked before any work (and before config.yaml).
	chk, err := checkContext(ctx, cfg, r.Backend)
	if err != nil {
		return st, err
	}
	x.traces, x.traffic = chk.traces, chk.traffic
	var prepCfg *Config
	if r.Prepared != "" {
		if prepCfg, err = openPrepared(r.Prepared); err != nil {
			return st, err
		}
	}

	prepare, eval := Matrix(cfg)
	var prep, ev, reuse []Cell
	chosen := map[string]bool{}
	if phase != RunEvaluate {
		for i, c := range prepare {
			if r.Shard.Has(i) {
				prep = append(prep, c)
				chosen[c.Dir()] = true
			}
		}
	}
	if phase != RunPrepare {
		for i, c := range eval {
			if r.Shard.Has(i) {
				ev = append(ev, c)
			}
		}
		// Dependencies of this slice that are not selected: reuse Prepared, else
		// compute them here (deterministic, so a duplicate is identical). A
		// prepared cell is reused only when produced with this config's settings
		// for it (checkPrepared), and that is checked before any work.
		need := needed(ev, cfg.Seeds)
		for _, c := range prepare {
			if chosen[c.Dir()] || !need[c.Dir()] || isDone(filepath.Join(r.Out, c.Dir())) {
				continue
			}
			if prepCfg != nil && isDone(filepath.Join(r.Prepared, c.Dir())) {
				if err := checkPrepared(r.Prepared, prepCfg, cfg, c); err != nil {
					return st, err
				}
				reuse = append(reuse, c)
				continue
			}
			fmt.Fprintf(x.log, "computing dependency %s here\n", c.Dir())
			prep = append(prep, c)
			chosen[c.Dir()] = true
		}
	}
	if r.BeforeWrite != nil {
		if err := r.BeforeWrite(); err != nil {
			return st, err
		}
	}
	if err := writeConfig(r.Out, cfg); err != nil {
		return st, err
	}
	if err := keepPolicyFiles(r.Out, cfg, chk.files); err != nil {
		return st, err
	}
	for _, c := range reuse {
		if err := copyCell(filepath.Join(r.Prepared, c.Dir()), filepath.Join(r.Out, c.Dir())); err != nil {
			return st, err
		}
	}
	prep, skippedPrep := x.pending(prep)
	ev, skippedEval := x.pending(ev)
	st.Skipped = skippedPrep + skippedEval
	workers := r.Workers
	if workers <= 0 {
		workers = cfg.Workers
	}
	x.prog = newProgress(r.Progress, append(append([]Cell(nil), prep...), ev...), x.cellWork)
	n, err := x.pool(ctx, workers, prep)
	st.Ran += n
	if err != nil {
		return st, err
	}
	n, err = x.pool(ctx, workers, ev)
	st.Ran += n
	if err != nil {
		return st, err
	}
	x.prog.finish()
	return st, summarize(r.Out, cfg)
}

// needed is the set of the directories of the prepare cells the evaluation cells
// depend on, for an experiment of the given seeds.
func needed(eval []Cell, seeds []uint64) map[string]bool {
	need := map[string]bool{}
	for _, c := range eval {
		for _, d := range dependencies(c, seeds) {
			need[d.Dir()] = true
		}
	}
	return need
}

func (x *run) pending(cells []Cell) (todo []Cell, skipped int) {
	for _, c := range cells {
		if isDone(filepath.Join(x.Out, c.Dir())) {
			skipped++
			continue
		}
		todo = append(todo, c)
	}
	return todo, skipped
}

// pool runs cells on workers goroutines and returns how many finished and the error
// that stopped them: the first by cell order that is not an interruption (a failing
// cell stops the others, which then report their own interruption), else, when the
// caller's context is done, its error.
func (x *run) pool(parent context.Context, workers int, cells []Cell) (int, error) {
	if len(cells) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	defer x.prog.heartbeat()()
	errs := make([]error, len(cells))
	var finished atomic.Int64
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers && w < len(cells); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				x.prog.started(cells[i])
				if err := x.cell(ctx, cells[i]); err != nil {
					errs[i] = fmt.Errorf("cell %s: %w", cells[i].Dir(), err)
					cancel()
					continue
				}
				finished.Add(1)
				x.prog.done(cells[i])
			}
		}()
	}
feed:
	for i := range cells {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	n := int(finished.Load())
	var interrupted error
	for _, err := range errs {
		switch {
		case err == nil:
		case !interruption(err):
			return n, err
		case interrupted == nil:
			interrupted = err
		}
	}
	if err := parent.Err(); err != nil {
		return n, err
	}
	return n, interrupted
}

// interruption reports whether err is a cell stopping because its context was done
// rather than failing of its own.
func interruption(err error) bool {
	return errors.Is(err, sim.ErrInterrupted) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (x *run) cell(ctx context.Context, c Cell) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch c.Phase {
	case PhaseTune:
		return x.tune(ctx, c)
	case PhaseTrain:
		return x.train(ctx, c)
	default:
		return x.evaluate(ctx, c)
	}
}

// simConfig is the experiment's simulator configuration, stopping inside a step
// once ctx is done (the simulation then fails with sim.ErrInterrupted).
func (x *run) simConfig(ctx context.Context) sim.Config {
	c := x.cfg.Sim
	c.Interrupt = func() bool { return ctx.Err() != nil }
	return c
}

func nodeOrNil(n *yaml.Node) *yaml.Node {
	if n == nil || n.IsZero() {
		return nil
	}
	return n
}

// evaluate runs one policy on one window and writes the cell directory.
func (x *run) evaluate(ctx context.Context, c Cell) error {
	lt := x.traces[c.Trace]
	b := lt.bounds[c.Split]
	ew := x.evalWindow(ctx, c.Trace, c.Split, c.Seed)
	window, ec, simCfg := ew.Window, ew.EvalContext, ew.Sim
	pol := x.policies[c.Policy]
	var (
		a     sim.Autoscaler
		err   error
		tuned *TunedValue
	)
	switch {
	case c.Kind == KindHPATuned:
		dep := dependencies(c, nil)[0]
		tuned, err = readTuned(filepath.Join(x.Out, dep.Dir()))
		if err != nil {
			return err
		}
		a, err = x.Backend.NewRule(kindHPA, withParam(&pol.Params, pol.Tune.Param, float64(tuned.Value)), ec)
	case Learned(c.Kind) && pol.File != "":
		a, err = x.Backend.Learners[c.Kind].Autoscaler([]string{filepath.Join(x.Out, policyFileDir(pol.TrainedAs()))}, *pol, ec)
	case Learned(c.Kind):
		var dirs []string
		for _, dep := range dependencies(c, x.cfg.Seeds) {
			dirs = append(dirs, filepath.Join(x.Out, dep.Dir()))
		}
		a, err = x.Backend.Learners[c.Kind].Autoscaler(dirs, *pol, ec)
	default:
		a, err = x.Backend.NewRule(c.Kind, nodeOrNil(&pol.Params), ec)
	}
	if err != nil {
		return fmt.Errorf("policy %q: %w", c.Policy, err)
	}
	o, err := x.Backend.Simulate(simCfg, window, a)
	if err != nil {
		return err
	}
	m := CellMetrics{
		Cell: c.Name(), Trace: c.Trace, Policy: c.Policy, Kind: c.Kind, Seed: c.Seed, Split: c.Split,
		SimSeed:     simCfg.Seed,
		WindowStart: ec.Start.Seconds(), WindowEnd: (time.Duration(b.To) * lt.full.Bucket).Seconds(),
		Tuned:   tuned,
		Metrics: map[string]Num{},
	}
	for _, mt := range metrics {
		m.Metrics[mt.Name] = Num(mt.Get(&o.Summary))
	}
	js, err := marshalJSON(m)
	if err != nil {
		return err
	}
	var tl, cdf bytes.Buffer
	if err := sim.WriteTimelineCSV(&tl, o.Timeline); err != nil {
		return err
	}
	if err := writeCDF(&cdf, o.LatencyCDF); err != nil {
		return err
	}
	return writeCell(filepath.Join(x.Out, c.Dir()), []namedFile{{"metrics.json", js}, {"timeline.csv", tl.Bytes()}, {"latency_cdf.csv", cdf.Bytes()}})
}

// evalWindow is a trace's window of a split as the evaluation cells of an
// experiment seed run it: the window and its simulator (seeded from the seed, trace
// and window: the same seed for every policy), whole trace and offset.
func (x *run) evalWindow(ctx context.Context, trace, split string, seed uint64) EvalWindow {
	lt := x.traces[trace]
	b := lt.bounds[split]
	window := sliceTrace(lt.full, b)
	simCfg := x.cfg.windowSim(x.simConfig(ctx), window, deriveSeed(seed, trace+"/"+split))
	return EvalWindow{Window: window, EvalContext: EvalContext{Sim: simCfg, Trace: lt.full, Start: time.Duration(b.From) * lt.full.Bucket}}
}

// train runs a learner in the cell directory itself (so that its checkpoints survive
// an interruption) and marks it done when training returns.
func (x *run) train(ctx context.Context, c Cell) error {
	pol := x.policies[c.Policy]
	dir := filepath.Join(x.Out, c.Dir())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	wins, offs := x.trainTraffic(pol)
	seed := deriveSeed(c.Seed, "train/"+c.Policy)
	simCfg := x.simConfig(ctx)
	simCfg.Seed = seed
	job := TrainJob{Policy: *pol, Traces: wins, Offsets: offs, Sim: simCfg, Seed: seed, Dir: dir, Log: x.log}
	if pol.ZeroShotOf == "" {
		// A zero-shot policy sees none of the experiment's traffic, validation
		// windows included.
		for _, spec := range x.cfg.Traces {
			job.Validation = append(job.Validation, x.evalWindow(ctx, spec.Name, SplitValidation, c.Seed))
		}
	}
	if err := x.Backend.Learners[c.Kind].Train(ctx, job); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, doneMarker), nil)
}

// trainTraffic is what a learned policy trains on (trainingTraces).
func (x *run) trainTraffic(pol *PolicySpec) ([]*traces.Trace, []time.Duration) {
	return trainingTraces(x.cfg, x.traces, x.traffic[FamilyOf(pol.Name)], pol)
}

// trainingTraces is what a learned policy trains on, with where each trace begins
// in its whole trace: the training window of every trace of the experiment
// (loaded), unless it has traffic of its own (own, whole traces), which then
// follows the windows (train.windows) or replaces them. The check validates the
// training settings on the same list the runner trains on.
func trainingTraces(cfg *Config, loaded map[string]*loadedTrace, own []*traces.Trace, pol *PolicySpec) ([]*traces.Trace, []time.Duration) {
	var (
		wins []*traces.Trace
		offs []time.Duration
	)
	if pol.Train.Traffic == nil || pol.Train.Windows {
		for _, spec := range cfg.Traces {
			lt := loaded[spec.Name]
			b := lt.bounds[SplitTrain]
			w := sliceTrace(lt.full, b)
			w.Name = spec.Name
			wins = append(wins, w)
			offs = append(offs, time.Duration(b.From)*lt.full.Bucket)
		}
	}
	if pol.Train.Traffic != nil {
		wins = append(wins, own...)
		offs = append(offs, make([]time.Duration, len(own))...)
	}
	return wins, offs
}

type namedFile struct {
	name string
	data []byte
}

// writeCell writes files (names may hold one level of subdirectory) into a fresh
// temporary directory beside dir, adds the done marker and renames it into place: a
// cell directory is complete or absent.
func writeCell(dir string, files []namedFile) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range append(files, namedFile{doneMarker, nil}) {
		p := filepath.Join(tmp, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
	}
	if isDone(dir) {
		return nil // finished meanwhile by another process sharing the directory
	}
	if err := os.RemoveAll(dir); err != nil { // an unfinished leftover
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if isDone(dir) {
			return nil
		}
		return err
	}
	return nil
}

// copyCell copies a finished cell directory (flat, or one level of subdirectories
// such as checkpoints) to dst atomically.
func copyCell(src, dst string) error {
	var files []namedFile
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() == doneMarker {
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, namedFile{rel, data})
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return writeCell(dst, files)
}

// withParam returns a copy of a params mapping with key set to v.
func withParam(params *yaml.Node, key string, v float64) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if params != nil && params.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(params.Content); i += 2 {
			if params.Content[i].Value != key {
				out.Content = append(out.Content, params.Content[i], params.Content[i+1])
			}
		}
	}
	out.Content = append(out.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: FormatFloat(v)})
	return out
}

// writeConfig writes Out/config.yaml, the resolved config, or checks that an existing
// one describes the same experiment (a resumed run must not mix experiments). A
// different config is accepted when the directory holds no cell yet (an earlier run
// stopped before producing anything, for example on a bad value fixed since).
func writeConfig(out string, cfg *Config) error {
	data, err := marshalConfig(cfg)
	if err != nil {
		return err
	}
	path := filepath.Join(out, "config.yaml")
	if old, err := os.ReadFile(path); err == nil {
		if bytes.Equal(old, data) {
			return nil
		}
		if n := producedCells(out); n > 0 {
			return fmt.Errorf("%s describes a different experiment%s and %d cells were produced under it: use another results directory", path, configDifference(old, "the directory", data, "this config"), n)
		}
	}
	return writeFileAtomic(path, data)
}

// policyFileDir is where, relative to the results directory, the copy of a
// policy's file (PolicySpec.File) is kept, as policy.json.
func policyFileDir(policy string) string { return filepath.Join("policies", policy) }

// keepPolicyFiles writes the file of every policy that has one (PolicySpec.File),
// the bytes check read (files, by policy name), into out, where its evaluation
// cells load it, so that every cell of a run, and of a resumed run, evaluates the
// bytes that were checked. A file changed since cells were produced from its copy
// is refused, as a changed config is.
func keepPolicyFiles(out string, cfg *Config, files map[string][]byte) error {
	for _, p := range cfg.Policies {
		if p.File == "" {
			continue
		}
		data := files[p.Name]
		dst := filepath.Join(out, policyFileDir(p.Name), "policy.json")
		if old, err := os.ReadFile(dst); err == nil {
			if bytes.Equal(old, data) {
				continue
			}
			if n := producedCells(out); n > 0 {
				return fmt.Errorf("policy %q: %s differs from the copy %d cells were produced with (%s): use another results directory", p.Name, p.File, n, dst)
			}
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(dst, data); err != nil {
			return err
		}
	}
	return nil
}

// producedCells counts the cell directories (finished or not) under out.
func producedCells(out string) int {
	n := 0
	for _, phase := range []string{"cells", "tune", "train"} {
		entries, _ := os.ReadDir(filepath.Join(out, phase))
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				n++
			}
		}
	}
	return n
}

// marshalConfig renders the resolved config as written to config.yaml. Workers is
// left out: it does not change any result.
func marshalConfig(cfg *Config) ([]byte, error) {
	c := *cfg
	c.Workers = 0
	return yaml.Marshal(&c)
}

// summarize rewrites out/summary.csv from every finished evaluation cell of cfg, in
// matrix order.
func summarize(out string, cfg *Config) error {
	_, eval := Matrix(cfg)
	var rows []CellMetrics
	for _, c := range eval {
		dir := filepath.Join(out, c.Dir())
		if !isDone(dir) {
			continue
		}
		m, err := readCellMetrics(filepath.Join(dir, "metrics.json"))
		if err != nil {
			return err
		}
		rows = append(rows, *m)
	}
	var b bytes.Buffer
	if err := writeSummary(&b, rows); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(out, "summary.csv"), b.Bytes())
}
