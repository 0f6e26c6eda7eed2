package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/intelliscale/intelliscale/experiments"
)

// Results is an experiment's results directory as read from disk.
type Results struct {
	Dir    string
	Config *experiments.Config
	Cells  []experiments.CellMetrics
	// index[policy][split][seed][trace]
	index map[string]map[string]map[uint64]map[string]map[string]float64
}

// Load reads config.yaml and summary.csv of a results directory.
func Load(dir string) (*Results, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no config.yaml: not a results directory (intelliscale experiment run --out DIR writes one), or not yet started", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", dir, err)
	}
	cfg, err := experiments.Parse(data, filepath.Join(dir, "config.yaml"))
	if err != nil {
		return nil, err
	}
	name := filepath.Join(dir, "summary.csv")
	sum, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		// The runner writes summary.csv at the end of a run (of a shard too).
		return nil, fmt.Errorf("%s: missing: the run has not finished (it was interrupted, or failed before its end): run the same experiment run command again to resume", name)
	}
	if err != nil {
		return nil, fmt.Errorf("results %s: %w", dir, err)
	}
	// Every row of a summary ends with a newline: without one the file was cut
	// short, perhaps inside the last number.
	if len(sum) > 0 && sum[len(sum)-1] != '\n' {
		return nil, fmt.Errorf("%s line %d: no newline at the end: the file is cut short; rerun the experiment to rewrite it", name, bytes.Count(sum, []byte("\n"))+1)
	}
	cells, err := experiments.ReadSummary(bytes.NewReader(sum), name)
	if err != nil {
		return nil, err
	}
	if len(cells) == 0 {
		return nil, fmt.Errorf("%s: no cells, only the header: nothing to report (has the experiment finished a cell?)", name)
	}
	if err := checkMatrix(name, cfg, cells); err != nil {
		return nil, err
	}
	return NewResults(dir, cfg, cells), nil
}

// checkMatrix refuses a summary (the file name) whose rows are not the evaluation
// cells of cfg: a row of a policy (or of a kind), trace, seed or window the config
// does not have, or a cell of the config's matrix without a row, which the
// figures would otherwise leave out as undefined.
func checkMatrix(name string, cfg *experiments.Config, cells []experiments.CellMetrics) error {
	_, eval := experiments.Matrix(cfg)
	kinds := map[string]string{}
	var policies []string
	for _, v := range experiments.Variants(cfg) {
		kinds[v.Spec.Name] = v.Spec.Kind
		policies = append(policies, v.Spec.Name)
	}
	var traces []string
	for _, t := range cfg.Traces {
		traces = append(traces, t.Name)
	}
	rows := map[string]bool{}
	for _, c := range cells {
		at := fmt.Sprintf("%s line %d", name, c.Line)
		switch {
		case kinds[c.Policy] == "":
			return fmt.Errorf("%s: policy %q: not a policy of the config (%s)", at, c.Policy, strings.Join(policies, ", "))
		case c.Kind != kinds[c.Policy]:
			return fmt.Errorf("%s: kind %q: policy %q is of kind %s in the config", at, c.Kind, c.Policy, kinds[c.Policy])
		case !slices.Contains(traces, c.Trace):
			return fmt.Errorf("%s: trace %q: not a trace of the config (%s)", at, c.Trace, strings.Join(traces, ", "))
		case !slices.Contains(cfg.Seeds, c.Seed):
			return fmt.Errorf("%s: seed %d: not a seed of the config (%s)", at, c.Seed, strings.Trim(fmt.Sprint(cfg.Seeds), "[]"))
		case !slices.Contains(cfg.Eval, c.Split):
			return fmt.Errorf("%s: split %q: not a window the config evaluates on (%s)", at, c.Split, strings.Join(cfg.Eval, ", "))
		}
		rows[c.Cell] = true
	}
	var missing []string
	for _, c := range eval {
		if !rows[c.Name()] {
			missing = append(missing, c.Name())
		}
	}
	if len(missing) > 0 {
		list := strings.Join(missing[:min(len(missing), 3)], ", ")
		if len(missing) > 3 {
			list += fmt.Sprintf(" and %d more", len(missing)-3)
		}
		return fmt.Errorf("%s: no row for %d of the config's %d cells (%s): the experiment has not finished or the file lost rows; run the experiment again (it resumes) to rewrite it", name, len(missing), len(eval), list)
	}
	return nil
}

// NewResults indexes cells of an experiment.
func NewResults(dir string, cfg *experiments.Config, cells []experiments.CellMetrics) *Results {
	r := &Results{Dir: dir, Config: cfg, Cells: cells, index: map[string]map[string]map[uint64]map[string]map[string]float64{}}
	for _, c := range cells {
		a := r.index[c.Policy]
		if a == nil {
			a = map[string]map[uint64]map[string]map[string]float64{}
			r.index[c.Policy] = a
		}
		b := a[c.Split]
		if b == nil {
			b = map[uint64]map[string]map[string]float64{}
			a[c.Split] = b
		}
		cc := b[c.Seed]
		if cc == nil {
			cc = map[string]map[string]float64{}
			b[c.Seed] = cc
		}
		m := map[string]float64{}
		for k, v := range c.Metrics {
			m[k] = float64(v)
		}
		cc[c.Trace] = m
	}
	return r
}

// value returns one figure of one cell, NaN when absent.
func (r *Results) value(policy, split string, seed uint64, trace, metric string) float64 {
	m := r.index[policy][split][seed][trace]
	if m == nil {
		return math.NaN()
	}
	v, ok := m[metric]
	if !ok {
		return math.NaN()
	}
	return v
}

// PerSeed returns, for each experiment seed, the mean over traces of f(trace, seed)
// (ignoring undefined values).
func (r *Results) PerSeed(f func(trace string, seed uint64) float64) []float64 {
	return r.perSeedOn(r.traceNames(), f)
}

// perSeedOn is PerSeed over the traces trs only.
func (r *Results) perSeedOn(trs []string, f func(trace string, seed uint64) float64) []float64 {
	out := make([]float64, 0, len(r.Config.Seeds))
	xs := make([]float64, 0, len(trs))
	for _, s := range r.Config.Seeds {
		xs = xs[:0]
		for _, t := range trs {
			xs = append(xs, f(t, s))
		}
		out = append(out, meanFinite(xs))
	}
	return out
}

// Figure is the mean over seeds (of the mean over traces) of a metric, with its CI.
func (r *Results) Figure(policy, split, metric string) Stat {
	return MeanCI(r.PerSeed(func(t string, s uint64) float64 { return r.value(policy, split, s, t, metric) }))
}

// TraceFigure is the mean over seeds of a metric on one trace.
func (r *Results) TraceFigure(policy, split, trace, metric string) Stat {
	var xs []float64
	for _, s := range r.Config.Seeds {
		xs = append(xs, r.value(policy, split, s, trace, metric))
	}
	return MeanCI(xs)
}

// oracle returns the name of the first oracle policy, or "".
func (r *Results) oracle() string {
	for _, p := range r.Config.Policies {
		if p.Kind == experiments.KindOracle {
			return p.Name
		}
	}
	return ""
}

// CostVsOracle is a policy's cost over the oracle's on the same trace, seed and
// window, averaged as Figure does. NaN when there is no oracle.
func (r *Results) CostVsOracle(policy, split string) Stat {
	o := r.oracle()
	return MeanCI(r.PerSeed(func(t string, s uint64) float64 {
		if o == "" {
			return math.NaN()
		}
		oc := r.value(o, split, s, t, "cost")
		if !(oc > 0) {
			return math.NaN()
		}
		return r.value(policy, split, s, t, "cost") / oc
	}))
}

// Improvement is the percentage by which policy lowers metric relative to base,
// paired by seed: for each seed, 100*(B-P)/B with B and P the metric's means over the
// traces (traces where either is undefined left out), then the mean and CI over seeds.
// Taking the ratio of the trace means, not the mean of per-trace ratios, keeps one
// trace with a near-zero baseline figure from dominating. Seeds where B is 0 are left
// out.
func (r *Results) Improvement(policy, base, split, metric string) Stat {
	var per []float64
	for _, s := range r.Config.Seeds {
		var bs, ps []float64
		for _, t := range r.Config.Traces {
			b, p := r.value(base, split, s, t.Name, metric), r.value(policy, split, s, t.Name, metric)
			if math.IsNaN(b) || math.IsNaN(p) || math.IsInf(b, 0) || math.IsInf(p, 0) {
				continue
			}
			bs, ps = append(bs, b), append(ps, p)
		}
		b, p := meanFinite(bs), meanFinite(ps)
		if !(b > 0) || math.IsNaN(p) {
			continue
		}
		per = append(per, 100*(b-p)/b)
	}
	return MeanCI(per)
}

// Difference is policy minus base in a metric's own unit, paired by trace and seed.
func (r *Results) Difference(policy, base, split, metric string) Stat {
	return MeanCI(r.PerSeed(func(t string, s uint64) float64 {
		return r.value(policy, split, s, t, metric) - r.value(base, split, s, t, metric)
	}))
}

// Candidate is a learned policy's standing on the validation windows.
type Candidate struct {
	Policy, Kind        string
	SLOViolations, Cost Stat
	// Qualified is true when the policy is eligible: Failures is empty.
	Qualified bool
	// Failures say which seed failed the eligibility rule where, and why (Eligibility).
	Failures []string
	// Summary is Failures in one line per failing seed (EligibilitySummary).
	Summary []string
}

// MaxActionsVsOracle bounds an eligible learned policy's scaling actions on a
// validation window, as a multiple of the oracle's on the same window and seed.
const MaxActionsVsOracle = 3

// failure is one validation window where a learned policy breaks the eligibility rule.
type failure struct {
	seed  uint64
	trace string
	kind  failureKind
	// value and limit: the violations (percent) and the budget, or the scaling
	// actions and the oracle's.
	value, limit float64
}

type failureKind int

const (
	failMissing failureKind = iota
	failSLO
	failActions
)

// failures applies the rule for choosing a learned policy: on every validation window
// (each trace) and every seed, SLO violations at most budget percent and scaling
// actions at most MaxActionsVsOracle times the oracle's (the first oracle policy, as
// configured) on the same window. Failures come in seed then trace order. A missing
// result is a failure; the action bound is not checked where there is no oracle
// figure.
func (r *Results) failures(policy string, budget float64) []failure {
	return r.failuresOn(policy, budget, r.traceNames())
}

// failuresOn is failures on the validation windows of the traces named in trs only.
func (r *Results) failuresOn(policy string, budget float64, trs []string) []failure {
	const val = experiments.SplitValidation
	o := r.oracle()
	var out []failure
	for _, s := range r.Config.Seeds {
		for _, name := range trs {
			v := r.value(policy, val, s, name, "slo_violations")
			switch {
			case math.IsNaN(v):
				out = append(out, failure{seed: s, trace: name, kind: failMissing})
				continue
			case v > budget:
				out = append(out, failure{s, name, failSLO, v, budget})
			}
			if o == "" {
				continue
			}
			a, oa := r.value(policy, val, s, name, "scaling_actions"), r.value(o, val, s, name, "scaling_actions")
			if !math.IsNaN(a) && !math.IsNaN(oa) && a > MaxActionsVsOracle*oa {
				out = append(out, failure{s, name, failActions, a, oa})
			}
		}
	}
	return out
}

// eligibleWords states the eligibility rule at budget (percent violations): the
// bound on scaling actions is set against the oracle's, so without an oracle in the
// config it is not applied (failuresOn).
func (r *Results) eligibleWords(budget float64) string {
	if r.oracle() == "" {
		return fmt.Sprintf("every seed within %.3g%% violations on every validation window; the bound on scaling actions, at most %gx the oracle's, is not applied: the config has no oracle", budget, float64(MaxActionsVsOracle))
	}
	return fmt.Sprintf("every seed within %.3g%% violations and at most %gx the oracle's scaling actions on every validation window", budget, float64(MaxActionsVsOracle))
}

// failedCriteria names the parts of the eligibility rule a policy fails at budget,
// in the rule's order: "SLO violations", "scaling actions", "missing validation
// results"; none when it is eligible.
func (r *Results) failedCriteria(policy string, budget float64) []string {
	seen := map[failureKind]bool{}
	for _, f := range r.failures(policy, budget) {
		seen[f.kind] = true
	}
	var out []string
	for _, k := range []struct {
		kind  failureKind
		words string
	}{{failSLO, "SLO violations"}, {failActions, "scaling actions"}, {failMissing, "missing validation results"}} {
		if seen[k.kind] {
			out = append(out, k.words)
		}
	}
	return out
}

// Eligibility returns one line per failure of the eligibility rule (failures); none
// means eligible.
func (r *Results) Eligibility(policy string, budget float64) []string {
	var out []string
	for _, f := range r.failures(policy, budget) {
		switch f.kind {
		case failMissing:
			out = append(out, fmt.Sprintf("seed %d, %s: no validation result", f.seed, f.trace))
		case failSLO:
			out = append(out, fmt.Sprintf("seed %d, %s: %.3g%% SLO violations > %.3g%%", f.seed, f.trace, f.value, f.limit))
		case failActions:
			out = append(out, fmt.Sprintf("seed %d, %s: %.0f scaling actions > %gx the oracle's %.0f", f.seed, f.trace, f.value, float64(MaxActionsVsOracle), f.limit))
		}
	}
	return out
}

// EligibilitySummary is Eligibility in one line per failing seed, for tables: the
// windows over the SLO budget with their violations, and the windows over the action
// bound with the largest count and the oracle's there.
func (r *Results) EligibilitySummary(policy string, budget float64) []string {
	fs := r.failures(policy, budget)
	var out []string
	for i := 0; i < len(fs); {
		seed := fs[i].seed
		var slo, missing []string
		flaps, most, oracleAt := 0, 0.0, 0.0
		for ; i < len(fs) && fs[i].seed == seed; i++ {
			switch f := fs[i]; f.kind {
			case failMissing:
				missing = append(missing, f.trace)
			case failSLO:
				slo = append(slo, fmt.Sprintf("%s %.3g%%", f.trace, f.value))
			case failActions:
				flaps++
				if f.value > most {
					most, oracleAt = f.value, f.limit
				}
			}
		}
		var why []string
		if len(missing) > 0 {
			why = append(why, "no result on "+strings.Join(missing, ", "))
		}
		if len(slo) > 0 {
			why = append(why, fmt.Sprintf("over %.3g%% on %s", budget, strings.Join(slo, ", ")))
		}
		if flaps > 0 {
			why = append(why, fmt.Sprintf("over %gx the oracle's actions on %d of %d windows (up to %.0f against %.0f)", float64(MaxActionsVsOracle), flaps, len(r.Config.Traces), most, oracleAt))
		}
		out = append(out, fmt.Sprintf("seed %d: %s", seed, strings.Join(why, "; ")))
	}
	return out
}

// Comparison is the winning learned policy against one baseline on the test windows.
type Comparison struct {
	Baseline string
	// UnderProvisioning: improvement in mean under-provisioning episode length, percent.
	UnderProvisioning Stat
	// ThetaO: reduction in over-provisioning accuracy theta_O, percent.
	ThetaO Stat
	// Cost: reduction in cost, percent.
	Cost Stat
	// Accuracy: difference in scaling accuracy, percentage points (positive: better).
	Accuracy Stat
	// SLOViolations: difference in SLO violations, percentage points (negative: better).
	SLOViolations Stat
	// Verdicts say plainly what the figures mean.
	Verdicts []string
}

// Headline is the report's main result.
type Headline struct {
	SLOBudget  float64 // percent of requests allowed to violate the SLO
	Candidates []Candidate
	// Winner is the learned policy chosen on validation; "" when there is none.
	Winner string
	// Qualified is false when no learned policy met the SLO budget on validation (the
	// one with the fewest violations was taken).
	Qualified   bool
	Comparisons []Comparison
	Notes       []string
}

// ErrNoSplit is returned when the results lack the validation or test windows.
var ErrNoSplit = errors.New("headline needs evaluation on both validation and test windows")

// ComputeHeadline selects the winning learned policy on the validation windows only
// and compares it with each baseline on the test windows.
func (r *Results) ComputeHeadline() (*Headline, error) {
	has := map[string]bool{}
	for _, s := range r.Config.Eval {
		has[s] = true
	}
	if !has[experiments.SplitValidation] || !has[experiments.SplitTest] {
		return nil, ErrNoSplit
	}
	t := r.Config.Sim.SLO.Target
	if t == 0 {
		t = 0.95
	}
	h := &Headline{SLOBudget: 100 * (1 - t)}
	for _, v := range experiments.Variants(r.Config) {
		p := v.Spec
		if !experiments.Learned(p.Kind) {
			continue
		}
		c := Candidate{Policy: p.Name, Kind: p.Kind,
			SLOViolations: r.Figure(p.Name, experiments.SplitValidation, "slo_violations"),
			Cost:          r.Figure(p.Name, experiments.SplitValidation, "cost")}
		c.Failures = r.Eligibility(p.Name, h.SLOBudget)
		c.Summary = r.EligibilitySummary(p.Name, h.SLOBudget)
		c.Qualified = len(c.Failures) == 0
		h.Candidates = append(h.Candidates, c)
	}
	w := SelectWinner(h.Candidates)
	if w < 0 {
		h.Notes = append(h.Notes, "The experiment has no learned policy: there is no headline comparison.")
		return h, nil
	}
	h.Winner, h.Qualified = h.Candidates[w].Policy, h.Candidates[w].Qualified
	if !h.Qualified {
		var why []string
		for i, c := range h.Candidates {
			crit := strings.Join(r.failedCriteria(c.Policy, h.SLOBudget), " and ")
			if i == 0 {
				why = append(why, c.Policy+" fails on "+crit)
			} else {
				why = append(why, c.Policy+" on "+crit)
			}
		}
		ref := fmt.Sprintf(" None is chosen; %s, the one with the fewest violations on validation, is compared below for reference only.", h.Winner)
		if len(r.Config.Baselines) == 0 {
			ref = " None is chosen."
		}
		h.Notes = append(h.Notes, fmt.Sprintf("No learned policy is eligible (%s): %s.%s", r.eligibleWords(h.SLOBudget), strings.Join(why, ", "), ref))
	}
	for _, b := range r.Config.Baselines {
		h.Comparisons = append(h.Comparisons, r.compare(h.Winner, b))
	}
	return h, nil
}

// SelectWinner returns the index of the candidate with the lowest mean cost among
// those qualified, else the one with the fewest SLO violations (a candidate whose
// violations are undefined only when all are); -1 when empty. Ties go to the
// earlier candidate.
func SelectWinner(cs []Candidate) int {
	best := -1
	for i, c := range cs {
		if c.Qualified && (best < 0 || c.Cost.Mean < cs[best].Cost.Mean) {
			best = i
		}
	}
	if best >= 0 {
		return best
	}
	for i, c := range cs {
		if best < 0 || c.SLOViolations.Mean < cs[best].SLOViolations.Mean ||
			math.IsNaN(cs[best].SLOViolations.Mean) && !math.IsNaN(c.SLOViolations.Mean) {
			best = i
		}
	}
	return best
}

func (r *Results) compare(w, b string) Comparison {
	const test = experiments.SplitTest
	c := Comparison{Baseline: b,
		UnderProvisioning: r.Improvement(w, b, test, "under_provision_seconds"),
		ThetaO:            r.Improvement(w, b, test, "theta_o"),
		Cost:              r.Improvement(w, b, test, "cost"),
		Accuracy:          r.Difference(w, b, test, "accuracy"),
		SLOViolations:     r.Difference(w, b, test, "slo_violations"),
	}
	c.Verdicts = []string{
		verdict(w, b, "mean under-provisioning duration", c.UnderProvisioning, true, "%"),
		verdict(w, b, "over-provisioning (theta_O)", c.ThetaO, true, "%"),
		verdict(w, b, "cost", c.Cost, true, "%"),
		verdict(w, b, "scaling accuracy", c.Accuracy, true, " points"),
		verdict(w, b, "SLO violations", Stat{-c.SLOViolations.Mean, c.SLOViolations.CI, c.SLOViolations.N}, true, " points"),
	}
	return c
}

// verdict words a paired improvement s (positive = w better) plainly, the figures
// with three significant digits (FormatSig: no exponent for large ones). With one
// seed there is no interval, and the lead is said without one.
func verdict(w, b, what string, s Stat, _ bool, unit string) string {
	switch {
	case math.IsNaN(s.Mean):
		return fmt.Sprintf("%s vs %s on %s: undefined (no comparable windows).", w, b, what)
	case s.Mean == 0:
		return fmt.Sprintf("%s does not beat %s on %s (no difference).", w, b, what)
	case s.Mean < 0:
		return fmt.Sprintf("%s does not beat %s on %s: %s%s worse.", w, b, what, FormatSig(-s.Mean, 3), unit)
	case math.IsNaN(s.CI):
		return fmt.Sprintf("%s is ahead of %s on %s by %s%s (one seed: no confidence interval).", w, b, what, FormatSig(s.Mean, 3), unit)
	case s.Low() <= 0:
		return fmt.Sprintf("%s is ahead of %s on %s by %s%s, but the 95%% CI (±%s) includes zero: not a clear win.", w, b, what, FormatSig(s.Mean, 3), unit, FormatSig(s.CI, 3))
	default:
		return fmt.Sprintf("%s beats %s on %s by %s%s (95%% CI ±%s).", w, b, what, FormatSig(s.Mean, 3), unit, FormatSig(s.CI, 3))
	}
}
