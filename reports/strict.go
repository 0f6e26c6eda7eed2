package reports

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/intelliscale/intelliscale/experiments"
	"github.com/intelliscale/intelliscale/sim"
)

// Strict is a family's cheapest operating point that keeps every test window of
// every seed within the SLO target: the matched-SLO reading without averaging
// over traces, so a point that breaks the SLO on one trace while holding it on
// the mean does not count.
type Strict struct {
	// Family is the policy family; Variant the chosen operating point ("" when
	// none of the family's points qualifies).
	Family, Variant string
	// Cost is the variant's test cost (mean over traces; mean and CI over seeds).
	Cost Stat
	// Worst is the variant's highest SLO violations (%) on any test window.
	Worst float64
	// VsOracle is the cost over the oracle's (NaN without an oracle).
	VsOracle float64
}

// StrictSLO returns, per family in config order, the cheapest variant (lowest mean
// test cost) whose SLO violations stay within budget percent on every test window
// of every seed; windows without a figure disqualify a variant.
func (r *Results) StrictSLO(budget float64) []Strict {
	var out []Strict
	for _, fam := range r.Families() {
		s := Strict{Family: fam[0].Family, Worst: math.NaN(), VsOracle: math.NaN()}
		for _, v := range fam {
			name := v.Spec.Name
			worst := r.worstWindow(name, experiments.SplitTest)
			if !(worst <= budget) {
				continue
			}
			c := r.Figure(name, experiments.SplitTest, "cost")
			if s.Variant == "" || c.Mean < s.Cost.Mean {
				s.Variant, s.Cost, s.Worst = name, c, worst
				s.VsOracle = r.CostVsOracle(name, experiments.SplitTest).Mean
			}
		}
		out = append(out, s)
	}
	return out
}

// worstWindow is a policy's highest SLO violations (%) on any window of split of
// any seed; +Inf when a window has no figure.
func (r *Results) worstWindow(policy, split string) float64 {
	return r.worstOn(policy, split, r.traceNames())
}

// worstOn is worstWindow over the traces trs only.
func (r *Results) worstOn(policy, split string, trs []string) float64 {
	worst := math.Inf(-1)
	for _, tr := range trs {
		for _, seed := range r.Config.Seeds {
			x := r.value(policy, split, seed, tr, "slo_violations")
			if math.IsNaN(x) {
				return math.Inf(1)
			}
			worst = math.Max(worst, x)
		}
	}
	return worst
}

// Recommendation is a family's operating point chosen on the validation windows
// (its cheapest eligible one: every validation window of every seed within the
// choice's budget, and at most MaxActionsVsOracle times the oracle's scaling actions
// on each, the rule learned policies are held to), with its figures on the test
// windows, which played no part in the choice.
type Recommendation struct {
	// Family is the policy family; Variant the chosen operating point ("" when
	// none of the family's points qualifies on validation).
	Family, Variant string
	// Validation and Test are the variant's costs (mean over traces; mean and CI
	// over seeds) on each split.
	Validation, Test Stat
	// WorstTest is the variant's highest SLO violations (%) on any test window that
	// had requests; NaN when no test window was checked (none evaluated, or none
	// had requests).
	WorstTest float64
	// VsOracle is the test cost over the oracle's (NaN without an oracle).
	VsOracle float64
	// Oracle marks the oracle's family, which knows the future and is never
	// recommended.
	Oracle bool
}

// Margins are the shares of the SLO target at which the choice of what to run is
// tried, largest first (Choice).
var Margins = []float64{1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2}

// Fold is one leave-one-trace-out check of the choice: the operating point the rule
// picks on the validation windows of every trace but one, at a share of the target,
// and how it fares on the validation windows of the trace left out.
type Fold struct {
	// HeldOut is the trace left out; Variant the point chosen on the others ("" if
	// none qualified there).
	HeldOut, Variant string
	// Worst is the variant's highest SLO violations (%) on the held-out trace's
	// validation windows (NaN without a variant).
	Worst float64
	// Held: the variant meets the eligibility rule at the full target on every
	// seed's validation window of the held-out trace.
	Held bool
	// Idle: the held-out part had no requests (noRequests), so nothing was checked
	// there and the fold cannot hold.
	Idle bool
}

// MarginCheck is the leave-one-trace-out check at one share of the target.
type MarginCheck struct {
	Margin float64
	Folds  []Fold
}

// Held counts the folds whose choice held on the trace left out.
func (m MarginCheck) Held() int {
	n := 0
	for _, f := range m.Folds {
		if f.Held {
			n++
		}
	}
	return n
}

// Choice is the report's answer to which operating point to run at the SLO target,
// made on the validation windows alone.
//
// A point that just meets the target on the validation windows is the cheapest that
// does so there, and so the likeliest to miss it on traffic the choice was not made
// on. How much to hold back is itself measured on validation, by leaving one trace
// out: at each share of the target in Margins, largest first, the rule chooses on
// the validation windows of all traces but one and the choice is checked at the
// full target on the one left out. The margin is the first share at which that holds
// for every trace; the rule is then applied on all traces at that share. With one
// trace the two halves of its validation window take the traces' place (from the
// cells' timelines); without timelines nothing can be left out and the choice is
// made at the full target.
type Choice struct {
	// Recs are the families' choices in config order; Best indexes the
	// recommended one, the cheapest on validation of every family but the
	// oracle's (-1 when none qualifies, or without validation windows).
	Recs []Recommendation
	Best int
	// Target is the SLO target (percent violations); Margin the share of it the
	// choice is made at: 1 when not checked, NaN when no share in Margins passed
	// the check (the choice is then made at the full target).
	Target, Margin float64
	// Checks are the margins tried, down to the one chosen (all of them when none
	// passed); empty when nothing could be left out.
	Checks []MarginCheck
	// Halves: with one trace, the folds are the two halves of its validation
	// window rather than traces; NoHalves says why they could not be (a timeline
	// missing or unreadable), "" otherwise.
	Halves   bool
	NoHalves string
	// AtTarget is what the rule recommends at the full target, with its test
	// figures, when the margin is below 1 (what the margin costs); Variant "" else.
	AtTarget Recommendation
	// IdleValidation says which validation windows had no requests (noRequests):
	// "the validation window of trace NAME", or with Halves a half of it; nothing is
	// checked on them. IdleTest names the traces whose test window had none.
	IdleValidation []string
	IdleTest       []string
}

// Budget is the violations (percent) the choice was made at.
func (c Choice) Budget() float64 {
	if math.IsNaN(c.Margin) {
		return c.Target
	}
	return c.Margin * c.Target
}

// Recommend makes the Choice.
func (r *Results) Recommend() Choice {
	target := 100 * (1 - sloTarget(r.Config))
	all := r.traceNames()
	c := Choice{Target: target, Margin: 1}
	folds := r
	if len(all) == 1 {
		if h, err := r.halves(); err == nil {
			folds, c.Halves = h, true
		} else {
			c.NoHalves = err.Error()
		}
	}
	const val = experiments.SplitValidation
	if c.Halves {
		var idle []string
		for i, name := range folds.traceNames() {
			if folds.noRequests(val, name) {
				idle = append(idle, []string{"first", "second"}[i])
			}
		}
		switch len(idle) {
		case 2:
			c.IdleValidation = []string{"the validation window of trace " + all[0]}
		case 1:
			c.IdleValidation = []string{"the " + idle[0] + " half of the validation window of trace " + all[0]}
		}
	} else {
		for _, name := range all {
			if r.noRequests(val, name) {
				c.IdleValidation = append(c.IdleValidation, "the validation window of trace "+name)
			}
		}
	}
	if r.evaluated(experiments.SplitTest) {
		for _, name := range all {
			if r.noRequests(experiments.SplitTest, name) {
				c.IdleTest = append(c.IdleTest, name)
			}
		}
	}
	if names := folds.traceNames(); len(names) > 1 {
		c.Margin = math.NaN()
		for _, m := range Margins {
			mc := MarginCheck{Margin: m}
			for i, out := range names {
				rest := append(append([]string{}, names[:i]...), names[i+1:]...)
				f := Fold{HeldOut: out, Worst: math.NaN(), Idle: folds.noRequests(experiments.SplitValidation, out)}
				if recs, best := folds.choose(m*target, rest, nil); best >= 0 {
					f.Variant = recs[best].Variant
					f.Worst = folds.worstOn(f.Variant, experiments.SplitValidation, []string{out})
					f.Held = len(folds.failuresOn(f.Variant, target, []string{out})) == 0
				}
				mc.Folds = append(mc.Folds, f)
			}
			c.Checks = append(c.Checks, mc)
			if mc.Held() == len(names) {
				c.Margin = m
				break
			}
		}
	}
	// With halves, a point must also meet the budget on each half: a window's share
	// can hide a half that breaks it.
	var also *Results
	if c.Halves {
		also = folds
	}
	c.Recs, c.Best = r.choose(c.Budget(), all, also)
	for i := range c.Recs {
		r.testFigures(&c.Recs[i])
	}
	if c.Margin < 1 {
		if recs, best := r.choose(target, all, also); best >= 0 {
			c.AtTarget = recs[best]
			r.testFigures(&c.AtTarget)
		}
	}
	return c
}

// testFigures fills a chosen point's figures on the test windows, its worst window
// read on those that had requests (NaN when none did, or none was evaluated).
func (r *Results) testFigures(rec *Recommendation) {
	if rec.Variant == "" {
		return
	}
	rec.Test = r.Figure(rec.Variant, experiments.SplitTest, "cost")
	rec.WorstTest = math.NaN()
	if trs := r.testedTraces(); len(trs) > 0 {
		rec.WorstTest = r.worstOn(rec.Variant, experiments.SplitTest, trs)
	}
	rec.VsOracle = r.CostVsOracle(rec.Variant, experiments.SplitTest).Mean
}

// testedTraces are the traces whose test window was evaluated and had requests.
func (r *Results) testedTraces() []string {
	if !r.evaluated(experiments.SplitTest) {
		return nil
	}
	var out []string
	for _, name := range r.traceNames() {
		if !r.noRequests(experiments.SplitTest, name) {
			out = append(out, name)
		}
	}
	return out
}

// noRequests reports whether the window of split on trace had no requests: the
// cell of every variant on every seed counts none. A cell counts none when it
// records its requests as 0 (the halves of a validation window, halves) or, read
// from a summary, when no request completed (p50_seconds recorded undefined) and
// none was late or dropped (slo_violations 0). A missing cell is no evidence of none.
func (r *Results) noRequests(split, trace string) bool {
	for _, v := range experiments.Variants(r.Config) {
		for _, seed := range r.Config.Seeds {
			m := r.index[v.Spec.Name][split][seed][trace]
			if n, ok := m["requests"]; ok {
				if n != 0 {
					return false
				}
				continue
			}
			p50, done := m["p50_seconds"]
			viol, ok := m["slo_violations"]
			if !done || !math.IsNaN(p50) || !ok || viol != 0 {
				return false
			}
		}
	}
	return true
}

// noRequestsWords is how the report says a window had no requests (noRequests).
const noRequestsWords = "had no requests (none completed or was dropped under any policy on any seed)"

// windowsWords names the windows of split of the traces names: "the test window of
// trace a", "the test windows of traces a and b".
func windowsWords(split string, names []string) string {
	if len(names) == 1 {
		return fmt.Sprintf("the %s window of trace %s", split, names[0])
	}
	return fmt.Sprintf("the %s windows of traces %s and %s", split, strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

// choose applies the eligibility rule at budget on the validation windows of the
// traces trs (and, when also is not nil, on every trace of also): per family in
// config order its cheapest eligible variant (mean validation cost over trs), and
// the index of the cheapest of those but the oracle's (-1 when none). Test figures
// are left unset.
func (r *Results) choose(budget float64, trs []string, also *Results) ([]Recommendation, int) {
	kinds := r.kinds()
	best := -1
	var out []Recommendation
	for i, fam := range r.Families() {
		rec := Recommendation{Family: fam[0].Family, WorstTest: math.NaN(), VsOracle: math.NaN(),
			Oracle: kinds[fam[0].Family] == experiments.KindOracle}
		for _, v := range fam {
			if len(r.failuresOn(v.Spec.Name, budget, trs)) > 0 || (also != nil && len(also.failures(v.Spec.Name, budget)) > 0) {
				continue
			}
			if c := r.figureOn(v.Spec.Name, experiments.SplitValidation, "cost", trs); rec.Variant == "" || c.Mean < rec.Validation.Mean {
				rec.Variant, rec.Validation = v.Spec.Name, c
			}
		}
		if rec.Variant != "" && !rec.Oracle && (best < 0 || rec.Validation.Mean < out[best].Validation.Mean) {
			best = i
		}
		out = append(out, rec)
	}
	return out, best
}

// figureOn is Figure with the mean taken over the traces trs only.
func (r *Results) figureOn(policy, split, metric string, trs []string) Stat {
	return MeanCI(r.perSeedOn(trs, func(t string, s uint64) float64 { return r.value(policy, split, s, t, metric) }))
}

// halves returns the validation windows of r's one trace as two traces, the
// window's first and second half, with each validation cell's SLO violations, cost
// and scaling actions recomputed from its timeline over each half (the violations
// from the rows' counts, as the simulator's summary; an action is a change of the
// desired count from the row before, within the half), and its requests (the
// arrivals; a half without any has no SLO violations figure).
func (r *Results) halves() (*Results, error) {
	if len(r.Config.Traces) != 1 || r.Dir == "" {
		return nil, errors.New("halves: one trace and a results directory needed")
	}
	tr := r.Config.Traces[0]
	cfg := *r.Config
	first, second := tr, tr
	first.Name, second.Name = tr.Name+", first half", tr.Name+", second half"
	cfg.Traces = []experiments.TraceSpec{first, second}
	var cells []experiments.CellMetrics
	for _, fam := range r.Families() {
		for _, v := range fam {
			for _, seed := range r.Config.Seeds {
				t, err := experiments.ReadTable(r.cellFile(tr.Name, v.Spec.Name, seed, experiments.SplitValidation, "timeline.csv"))
				if err != nil {
					return nil, err
				}
				arr, viol, cost, desired := t.Columns["arrivals"], t.Columns["slo_violations"], t.Columns["cost"], t.Columns["desired"]
				if arr == nil || viol == nil || cost == nil || desired == nil || t.Len < 2 {
					return nil, fmt.Errorf("%s: no arrivals, slo_violations, cost or desired column, or under two rows", r.cellFile(tr.Name, v.Spec.Name, seed, experiments.SplitValidation, "timeline.csv"))
				}
				for h, name := range []string{first.Name, second.Name} {
					lo, hi := h*t.Len/2, (h+1)*t.Len/2
					var a, vi, co, acts float64
					for i := lo; i < hi; i++ {
						a, vi, co = a+arr[i], vi+viol[i], co+cost[i]
						if i > lo && desired[i] != desired[i-1] {
							acts++
						}
					}
					m := map[string]experiments.Num{"cost": experiments.Num(co), "scaling_actions": experiments.Num(acts), "requests": experiments.Num(a)}
					if a > 0 {
						m["slo_violations"] = experiments.Num(100 * vi / a)
					}
					cells = append(cells, experiments.CellMetrics{Trace: name, Policy: v.Spec.Name, Seed: seed, Split: experiments.SplitValidation, Metrics: m})
				}
			}
		}
	}
	return NewResults(r.Dir, &cfg, cells), nil
}

// budgetWords says at what share of the target a choice was made.
func (c Choice) budgetWords() string {
	switch {
	case len(c.Checks) == 0:
		return "within the target"
	case math.IsNaN(c.Margin):
		return "within the target" + c.halvesWords() + " (no smaller share passed the leave-one-out check)"
	case c.Margin == 1:
		return "within the target" + c.halvesWords()
	}
	return fmt.Sprintf("within %s%% violations, %.0f%% of the target%s", FormatSig(c.Budget(), 3), 100*c.Margin, c.halvesWords())
}

func (c Choice) halvesWords() string {
	if c.Halves {
		return ", and on each half of it"
	}
	return ""
}

// recommendTable renders the Choice: the recommended point in bold, a ✗ beside a
// test window that broke the target.
func (r *Results) recommendTable(c Choice) Table {
	t := Table{Title: fmt.Sprintf("Chosen on validation: each family's cheapest eligible operating point (every validation window of every seed %s%s), and its test figures (%s, mean over traces; %s; ✗: a test window over the %.3g%% target)", c.budgetWords(), r.actionsRule(), r.costUnit(), overSeeds(len(r.Config.Seeds)), c.Target),
		Head: []string{"policy", "operating point", "validation cost", "test cost", "worst test window % violations"}}
	tested := r.evaluated(experiments.SplitTest)
	for i, rec := range c.Recs {
		if rec.Variant == "" {
			t.Rows = append(t.Rows, []string{rec.Family, "none", "", "", ""})
			continue
		}
		test := FormatStat(rec.Test)
		if !math.IsNaN(rec.VsOracle) && !rec.Oracle {
			test += fmt.Sprintf(", %.2fx oracle", rec.VsOracle)
		}
		point := rec.Variant
		if i == c.Best {
			point = "**" + point + "** recommended"
		}
		worst := FormatSig(rec.WorstTest, 3)
		switch {
		case !tested:
			test, worst = "not evaluated", "not evaluated"
		case math.IsNaN(rec.WorstTest):
			worst = "no requests"
		case !(rec.WorstTest <= c.Target):
			worst += " ✗"
		}
		t.Rows = append(t.Rows, []string{rec.Family, point, FormatStat(rec.Validation), test, worst})
	}
	return t
}

// transferTable renders the leave-one-trace-out checks (nil without them): per share
// of the target, the point chosen on the other traces and its worst validation
// window on the one left out.
func (r *Results) transferTable(c Choice) *Table {
	if len(c.Checks) == 0 {
		return nil
	}
	broke := fmt.Sprintf("over the target, or over %gx the oracle's scaling actions", float64(MaxActionsVsOracle))
	if !r.hasOracle() {
		broke = "over the target"
	}
	title := fmt.Sprintf("Leave one trace out: the point chosen on the validation windows of the other traces at a share of the %.3g%% target, and its worst validation window on the trace left out (%% violations; ✗: %s)", c.Target, broke)
	if c.Halves {
		title = fmt.Sprintf("Leave one half out: the point chosen on one half of the validation window at a share of the %.3g%% target, and its worst figure on the other half (%% violations; ✗: %s)", c.Target, broke)
	}
	t := Table{Title: title,
		Head: []string{"share of the target", "budget %"}}
	for _, f := range c.Checks[0].Folds {
		t.Head = append(t.Head, "left out: "+f.HeldOut)
	}
	t.Head = append(t.Head, "held")
	for _, mc := range c.Checks {
		row := []string{fmt.Sprintf("%.0f%%", 100*mc.Margin), FormatSig(mc.Margin*c.Target, 3)}
		for _, f := range mc.Folds {
			cell := "none eligible"
			switch {
			case f.Variant != "" && f.Idle:
				cell = f.Variant + ": no requests, nothing checked"
			case f.Variant != "" && math.IsInf(f.Worst, 1):
				cell = f.Variant + ": no figure ✗" // a seed's window has no violations figure
			case f.Variant != "":
				cell = fmt.Sprintf("%s: %s", f.Variant, FormatSig(f.Worst, 3))
				if !f.Held {
					cell += " ✗"
				}
			}
			row = append(row, cell)
		}
		row = append(row, fmt.Sprintf("%d of %d", mc.Held(), len(mc.Folds)))
		t.Rows = append(t.Rows, row)
	}
	return &t
}

// hpaChoice is the index in c.Recs of HPA's point the recommendation is compared
// with: the first family of kind hpa (the Kubernetes rule, what most services run)
// with a chosen point other than the recommended one; c.Best when the recommended
// point is the first such family's own; -1 if none. A recommended family of kind hpa
// that follows one without a chosen point (HPA behind a shield, where plain HPA
// breaks the target) is not compared with itself.
func (r *Results) hpaChoice(c Choice) int {
	kinds := r.kinds()
	first := true
	for i, rec := range c.Recs {
		if kinds[rec.Family] != "hpa" {
			continue
		}
		if i == c.Best && first {
			return i
		}
		if i != c.Best && rec.Variant != "" {
			return i
		}
		first = false
	}
	return -1
}

// hpaNoneWords says that HPA (the first family of kind hpa other than the
// recommended one) has no point to compare the recommendation with, and what HPA
// as configured, the rule a service runs before any choice, does on the windows:
// its worst validation window, its test cost and worst test window, and the
// recommendation's cost against it, paired by seed.
func (r *Results) hpaNoneWords(c Choice) string {
	kinds := r.kinds()
	name := ""
	for i, rec := range c.Recs {
		if kinds[rec.Family] == "hpa" && i != c.Best {
			name = rec.Family
			break
		}
	}
	line := fmt.Sprintf(" HPA (%s) has no eligible point to compare it with", name)
	val, worst, test := r.worstWindow(name, experiments.SplitValidation), r.worstWindow(name, experiments.SplitTest), r.Figure(name, experiments.SplitTest, "cost")
	d := r.Improvement(c.Recs[c.Best].Variant, name, experiments.SplitTest, "cost")
	if math.IsInf(val, 0) || math.IsInf(worst, 0) || math.IsNaN(test.Mean) || math.IsNaN(d.Mean) {
		return line + "."
	}
	return line + fmt.Sprintf(": as configured its worst validation window has %s%% violations; on the test windows it costs %s, worst window %s%%, and the choice costs %s, paired by seed.",
		FormatSig(val, 3), FormatStat(test), FormatSig(worst, 3), costWords(d))
}

// recommendLine says which operating point to run at the SLO target, chosen on
// validation, how the margin was set, and how the choice fared on the test windows.
func (r *Results) recommendLine(c Choice) string {
	rule := fmt.Sprintf("the cheapest eligible operating point of any family: every validation window of every seed %s%s", c.budgetWords(), r.actionsRule())
	margin := fmt.Sprintf(" With one trace and its validation timelines unreadable (%s), how far below the target to choose cannot be measured by leaving a part out, so the choice is made at the full target.", c.NoHalves)
	unit, units := "trace", "traces"
	if c.Halves {
		unit, units = "half of the validation window", "halves"
	}
	if n := len(c.Checks); n > 0 {
		first := c.Checks[0]
		if math.IsNaN(c.Margin) {
			margin = fmt.Sprintf(" Left out of the choice, a %s broke the target at every share of it tried, down to %.0f%% (at the full target the choice made on the rest held on %d of %d %s left out), so the choice is made at the full target and may not hold on other traffic.", unit, 100*Margins[len(Margins)-1], first.Held(), len(first.Folds), units)
		} else if c.Margin < 1 {
			margin = fmt.Sprintf(" The share of the target is set on validation too, by leaving one %s out: chosen on the rest at the full target, the point held the target on %d of %d %s left out; at %.0f%% of it, on all %d.", unit, first.Held(), len(first.Folds), units, 100*c.Margin, len(first.Folds))
		} else {
			margin = fmt.Sprintf(" Left out of the choice, each of the %d %s held the target under the point chosen on the rest.", len(first.Folds), units)
		}
		if c.Halves {
			margin += " With one trace the halves stand in for other traffic; several traces (for example weeks of the same traffic as crops) measure the margin better."
		}
	}
	// idle says which validation windows had no requests, and what that did.
	idle := ""
	if n := len(c.IdleValidation); n > 0 {
		it := "it"
		if n > 1 {
			it = "them"
		}
		idle = fmt.Sprintf(" %s %s: nothing is checked on %s.", capitalize(strings.Join(c.IdleValidation, " and ")), noRequestsWords, it)
		if c.Halves {
			idle = fmt.Sprintf(" %s %s, so no point has an SLO violations figure on each half of the window, which the rule requires.", capitalize(c.IdleValidation[0]), noRequestsWords)
		}
	}
	if !r.evaluated(experiments.SplitValidation) {
		return fmt.Sprintf("To run at the %.3g%% target: no validation windows were evaluated (the config's eval lists %s), and the choice is made on them alone, so none is recommended: add validation to eval.", c.Target, strings.Join(r.Config.Eval, ", "))
	}
	if c.Best < 0 {
		family, neither := "any family", ""
		switch {
		case slices.ContainsFunc(c.Recs, func(rec Recommendation) bool { return rec.Oracle && rec.Variant != "" }):
			family = "any family but the oracle"
		case r.hasOracle():
			neither = ", the oracle's neither"
		}
		return fmt.Sprintf("To run at the %.3g%% target: no operating point of %s is eligible on the validation windows%s (%s), so none is recommended.%s", c.Target, family, neither, rule, idle)
	}
	rec := c.Recs[c.Best]
	line := fmt.Sprintf("To run at the %.3g%% target, chosen on the validation windows alone (%s): **%s**.%s%s", c.Target, rule, rec.Variant, margin, idle)
	if !r.evaluated(experiments.SplitTest) {
		line += fmt.Sprintf(" The choice is not checked on test windows: none was evaluated (the config's eval lists %s).", strings.Join(r.Config.Eval, ", "))
		if a := c.AtTarget; a.Variant != "" {
			line += fmt.Sprintf(" At the full target the rule would pick %s.", a.Variant)
		}
		return line + " " + r.deployLine(c)
	}
	line += fmt.Sprintf(" On the test windows it costs %s %s", FormatStat(rec.Test), r.costUnit())
	if !math.IsNaN(rec.VsOracle) {
		line += fmt.Sprintf(" (%.2fx the oracle)", rec.VsOracle)
	}
	switch {
	case math.IsNaN(rec.WorstTest):
		line += fmt.Sprintf(", but the choice is not checked there: %s %s.", windowsWords(experiments.SplitTest, c.IdleTest), noRequestsWords)
	case rec.WorstTest <= c.Target:
		line += fmt.Sprintf(", and its worst test window has %s%% violations: the choice held.", FormatSig(rec.WorstTest, 3))
	default:
		line += fmt.Sprintf(", but its worst test window has %s%% violations: the choice did not hold there.", FormatSig(rec.WorstTest, 3))
	}
	if len(c.IdleTest) > 0 && !math.IsNaN(rec.WorstTest) {
		line += fmt.Sprintf(" %s %s: nothing was checked there.", capitalize(windowsWords(experiments.SplitTest, c.IdleTest)), noRequestsWords)
	}
	switch i := r.hpaChoice(c); {
	case i == c.Best: // the recommended point is HPA's
	case i >= 0:
		h := c.Recs[i]
		line += fmt.Sprintf(" Against HPA's point chosen by the same rule (%s, %s on the test windows) ", h.Variant, FormatStat(h.Test))
		if d := r.Improvement(rec.Variant, h.Variant, experiments.SplitTest, "cost"); math.IsNaN(d.Mean) {
			line += "the costs cannot be compared: no seed has a positive test cost of both."
		} else {
			line += fmt.Sprintf("it costs %s, paired by seed.", costWords(d))
		}
	case slices.ContainsFunc(r.Config.Policies, func(p experiments.PolicySpec) bool { return p.Kind == "hpa" }):
		line += r.hpaNoneWords(c)
	default:
		line += " There is no HPA (a policy of kind hpa) in the config to compare it with."
	}
	if a := c.AtTarget; a.Variant != "" {
		line += fmt.Sprintf(" At the full target the rule would pick %s: %s %s on the test windows", a.Variant, FormatStat(a.Test), r.costUnit())
		if !math.IsNaN(a.WorstTest) {
			line += fmt.Sprintf(", worst window %s%%", FormatSig(a.WorstTest, 3))
		}
		line += "."
	}
	return line + " " + r.deployLine(c)
}

// costWords says how a point's cost compares with another's from the paired
// reduction d (percent; positive: it costs less; defined): "X% less", "X% more", or
// "the same".
func costWords(d Stat) string {
	switch {
	case d.Mean > 0:
		return FormatStat(d) + "% less"
	case d.Mean < 0:
		return FormatStat(Stat{Mean: -d.Mean, CI: d.CI, N: d.N}) + "% more"
	case d.CI > 0:
		return fmt.Sprintf("the same on the mean (95%% CI ±%s%%)", FormatSig(d.CI, 2))
	}
	return "the same"
}

// capitalize puts the first letter of s in upper case.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// actionsRule is the eligibility rule's bound on scaling actions as the clause
// that follows its bound on violations: at most MaxActionsVsOracle times the
// oracle's, not applied without an oracle in the config (failuresOn).
func (r *Results) actionsRule() string {
	if !r.hasOracle() {
		return fmt.Sprintf("; the bound on scaling actions, at most %gx the oracle's, is not applied: the config has no oracle", float64(MaxActionsVsOracle))
	}
	return fmt.Sprintf(", at most %gx the oracle's scaling actions", float64(MaxActionsVsOracle))
}

// strictTable renders StrictSLO at the SLO target, the cheapest family in bold.
func (r *Results) strictTable() Table {
	budget := 100 * (1 - sloTarget(r.Config))
	ss := r.StrictSLO(budget)
	kinds := r.kinds()
	t := Table{Title: fmt.Sprintf("Cheapest operating point within %.3g%% violations on every test window of every seed (%s, mean over traces; %s)", budget, r.costUnit(), overSeeds(len(r.Config.Seeds))),
		Head: []string{"policy", "operating point", "cost", "worst window % violations"}}
	best := -1
	for i, s := range ss {
		if s.Variant != "" && kinds[s.Family] != experiments.KindOracle && (best < 0 || s.Cost.Mean < ss[best].Cost.Mean) {
			best = i
		}
	}
	for i, s := range ss {
		if !r.evaluated(experiments.SplitTest) {
			t.Rows = append(t.Rows, []string{s.Family, "not evaluated", "", ""})
			continue
		}
		if s.Variant == "" {
			t.Rows = append(t.Rows, []string{s.Family, "none", "", ""})
			continue
		}
		cost := FormatStat(s.Cost)
		if i == best {
			cost = "**" + cost + "** cheapest"
		}
		if !math.IsNaN(s.VsOracle) && kinds[s.Family] != experiments.KindOracle {
			cost += fmt.Sprintf(", %.2fx oracle", s.VsOracle)
		}
		t.Rows = append(t.Rows, []string{s.Family, s.Variant, cost, FormatSig(s.Worst, 3)})
	}
	return t
}

// kinds maps every configured policy (family) name to its kind.
// hasOracle reports whether the config has an oracle among its policies.
func (r *Results) hasOracle() bool { return r.oracle() != "" }

// oracleVariants counts the oracle family's operating points (its sweep's values
// and its base); 0 without an oracle.
func (r *Results) oracleVariants() int {
	n := 0
	for _, v := range experiments.Variants(r.Config) {
		if v.Spec.Kind == experiments.KindOracle && v.Family == r.oracle() {
			n++
		}
	}
	return n
}

// belowOracle reports whether a cost the report sets beside the oracle's is below
// it: a ratio under 1 in the matched-SLO figures ms, the strict table, the choice c
// or the table of all policies (the oracle's own figures aside).
func (r *Results) belowOracle(ms []Matched, c Choice) bool {
	kinds := r.kinds()
	for _, m := range ms {
		if kinds[m.Policy] != experiments.KindOracle && m.VsOracle < 1 {
			return true
		}
	}
	for _, s := range r.StrictSLO(100 * (1 - sloTarget(r.Config))) {
		if kinds[s.Family] != experiments.KindOracle && s.VsOracle < 1 {
			return true
		}
	}
	for _, rec := range c.Recs {
		if !rec.Oracle && rec.VsOracle < 1 {
			return true
		}
	}
	for _, p := range r.Config.Policies {
		if p.Kind != experiments.KindOracle && r.CostVsOracle(p.Name, experiments.SplitTest).Mean < 1 {
			return true
		}
	}
	return false
}

// oracleBreaksWords says, when no operating point of the oracle keeps every test
// window within the SLO target (a headroom too thin for the service's queueing),
// that its cost is not the cost of meeting the SLO, so that a ratio to it does not
// read as what a policy could save; "" when one does, or without an oracle or
// evaluated test windows.
func (r *Results) oracleBreaksWords() string {
	o := r.oracle()
	if o == "" || !r.evaluated(experiments.SplitTest) {
		return ""
	}
	budget := 100 * (1 - sloTarget(r.Config))
	for _, s := range r.StrictSLO(budget) {
		if s.Family != o || s.Variant != "" {
			continue
		}
		best := math.Inf(1)
		for _, fam := range r.Families() {
			if fam[0].Family == o {
				for _, v := range fam {
					best = min(best, r.worstWindow(v.Spec.Name, experiments.SplitTest))
				}
			}
		}
		if math.IsInf(best, 0) {
			return ""
		}
		return fmt.Sprintf(" Here no operating point of the oracle keeps every test window within the %.3g%% target (the best's worst window has %s%% violations): its cost is not that of meeting the SLO, and a ratio to it (\"x oracle\") overstates what a policy could save; sweep its headroom (sweep: {param: headroom, values: [...]}) for points that meet the target.", budget, FormatSig(best, 3))
	}
	return ""
}

// evaluated reports whether the config's eval lists the split.
func (r *Results) evaluated(split string) bool { return slices.Contains(r.Config.Eval, split) }

func (r *Results) kinds() map[string]string {
	m := map[string]string{}
	for _, p := range r.Config.Policies {
		m[p.Name] = p.Kind
	}
	return m
}

// deployLine says how to run the recommended point: for a learned policy, the
// export of its training run (the seed cheapest on validation) with its deploy-time
// parameters and the live controller on that file; for a rule, the live controller's
// policy and parameters; then where the live controller cannot run it as the
// experiment evaluated it. "" when nothing is recommended.
func (r *Results) deployLine(c Choice) string {
	line := r.deployCommand(c)
	if line == "" {
		return ""
	}
	name := c.Recs[c.Best].Variant
	for _, v := range experiments.Variants(r.Config) {
		if v.Spec.Name == name {
			if caveats := r.liveCaveats(!experiments.Learned(v.Spec.Kind)); caveats != "" {
				line += " " + caveats
			}
		}
	}
	return line
}

// deployCommand is deployLine's commands, without its caveats.
func (r *Results) deployCommand(c Choice) string {
	if c.Best < 0 {
		return ""
	}
	name := c.Recs[c.Best].Variant
	var v experiments.Variant
	for _, x := range experiments.Variants(r.Config) {
		if x.Spec.Name == name {
			v = x
		}
	}
	params := flowYAML(v.Spec.Params)
	withParams := ""
	if params != "" {
		withParams = fmt.Sprintf(" --params '%s'", params)
	}
	learned := experiments.Learned(v.Spec.Kind)
	bounds := r.liveFlags(!learned)
	switch {
	case learned:
		file := v.Family + ".policy.json"
		if v.Spec.File != "" {
			src := filepath.Join(r.Dir, "policies", v.Family, "policy.json")
			return fmt.Sprintf("To deploy it: `intelliscale live controller --policy-file %s%s%s` (the copy of %s this run evaluated; %s).", src, withParams, bounds, v.Spec.File, liveTarget)
		}
		// run is the training run of one seed that the point evaluates.
		run := func(seed uint64) string {
			return filepath.Join(r.Dir, experiments.Cell{Phase: experiments.PhaseTrain, Policy: v.Spec.TrainedAs(), Kind: v.Spec.Kind, Seed: seed}.Dir())
		}
		if v.Spec.EnsembleOf != "" && len(r.Config.Seeds) == 1 {
			// An ensemble of one network is that network: export takes no --vote then.
			return fmt.Sprintf("To deploy it: `intelliscale export --run %s%s --out %s`, then `intelliscale live controller --policy-file %s%s` (the network of %s's one seed, which is the ensemble evaluated; %s).", run(r.Config.Seeds[0]), withParams, file, file, bounds, v.Spec.TrainedAs(), liveTarget)
		}
		if v.Spec.EnsembleOf != "" {
			var runs strings.Builder
			for _, s := range r.Config.Seeds {
				fmt.Fprintf(&runs, "--run %s ", run(s))
			}
			return fmt.Sprintf("To deploy it: `intelliscale export %s--vote %s%s --out %s`, then `intelliscale live controller --policy-file %s%s` (the ensemble of the networks of %s's %d seeds, as evaluated; %s).", runs.String(), v.Spec.Vote, withParams, file, file, bounds, v.Spec.TrainedAs(), len(r.Config.Seeds), liveTarget)
		}
		seed, cost := r.Config.Seeds[0], math.Inf(1)
		for i, m := range r.PerSeed(func(t string, s uint64) float64 { return r.value(name, experiments.SplitValidation, s, t, "cost") }) {
			if m < cost {
				seed, cost = r.Config.Seeds[i], m
			}
		}
		return fmt.Sprintf("To deploy it: `intelliscale export --run %s%s --out %s`, then `intelliscale live controller --policy-file %s%s` (seed %d, the cheapest of its seeds on validation%s; %s).", run(seed), withParams, file, file, bounds, seed, r.seedTestWords(name, seed), liveTarget)
	case v.Spec.Kind == experiments.KindHPATuned:
		return r.tunedDeployLine(v.Spec.Name, bounds)
	}
	return fmt.Sprintf("To deploy it: `intelliscale live controller --policy %s%s%s` (%s).", v.Spec.Kind, withParams, bounds, liveTarget)
}

// liveTarget says what else a live controller command of the report needs: the
// service it scales, which the experiment does not know (a Docker Compose project,
// the default backend, or a Kubernetes workload).
const liveTarget = "with --project NAME for a Docker Compose service, or --backend kubernetes --workload deployment/NAME"

// liveFlags are the live controller's flags that run a policy as the experiment
// evaluated it: its replica bounds, no step limit beyond the policy's own, and the
// service's facts where they differ from the controller's defaults (the control
// interval only for a rule: a policy file carries its own).
func (r *Results) liveFlags(interval bool) string {
	c := r.Config.Sim
	if c.Validate() != nil { // fills the defaults; the run validated the same config
		return ""
	}
	var b strings.Builder
	// The live controller cannot scale to zero: --min 0 is refused (liveCaveats).
	fmt.Fprintf(&b, " --min %d --max %d --max-step %d", max(c.Min(), 1), c.MaxReplicas, c.MaxReplicas)
	if interval && c.ControlInterval != 15*time.Second {
		fmt.Fprintf(&b, " --interval %v", c.ControlInterval)
	}
	if slo := liveSLO(c.SLO.Latency, interval); slo != 500*time.Millisecond {
		fmt.Fprintf(&b, " --slo %v", slo)
	}
	if c.Concurrency != 4 {
		fmt.Fprintf(&b, " --slots %d", c.Concurrency)
	}
	if d := seconds(c.ServiceTime.Mean); d != 100*time.Millisecond {
		fmt.Fprintf(&b, " --service-mean %v", d)
	}
	if d := seconds(c.StartupDelay.Mean); d != 5*time.Second {
		fmt.Fprintf(&b, " --startup-delay %v", d)
	}
	return b.String()
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// liveSLO is the --slo of the live controller for an SLO latency: the latency
// itself, but for a rule (which counts violations on the response-time histogram,
// and so refuses a latency that is not one of its bucket bounds) the largest bound
// at or below it (the smallest when it is below every bound), as a learned policy's
// features read it.
func liveSLO(latency time.Duration, rule bool) time.Duration {
	if !rule || sloBucketBound(latency) {
		return latency
	}
	le := sim.DefBuckets[0]
	for _, b := range sim.DefBuckets {
		if b <= latency.Seconds()+1e-12 {
			le = b
		}
	}
	return seconds(le)
}

// sloBucketBound reports whether latency is a bound of the response-time histogram.
func sloBucketBound(latency time.Duration) bool {
	return slices.ContainsFunc(sim.DefBuckets[:], func(b float64) bool { return seconds(b) == latency })
}

// liveCaveats says where the live controller's command cannot run the recommended
// point as the experiment evaluated it (rule: a rule policy, not a policy file):
// replicas that fell to zero, and a rule's SLO latency off the histogram's bounds.
// "" when it runs as evaluated.
func (r *Results) liveCaveats(rule bool) string {
	c := r.Config.Sim
	if c.Validate() != nil {
		return ""
	}
	var out []string
	if c.Min() == 0 {
		out = append(out, "The experiment let replicas fall to zero (sim.min_replicas: 0), which the live controller refuses (--min must be at least 1): the command keeps one replica at all times, which the figures above did not pay for.")
	}
	if slo := liveSLO(c.SLO.Latency, rule); slo != c.SLO.Latency {
		which := "the largest bound below it"
		if slo > c.SLO.Latency {
			which = "the smallest bound"
		}
		out = append(out, fmt.Sprintf("The SLO latency, %v (sim.slo.latency), is not a bound of the response-time histogram's buckets, which a rule's --slo must be: the command gives --slo %v, %s (the latency at which the controller counts violations; no rule decides on that count).", c.SLO.Latency, slo, which))
	}
	return strings.Join(out, " ")
}

// tunedDeployLine runs HPA at the value the grid search chose: one command when
// every trace chose the same, else the value of each trace to choose from.
func (r *Results) tunedDeployLine(policy, bounds string) string {
	var param string
	var values []string
	per := map[string]string{}
	for _, tr := range r.Config.Traces {
		tv, ok := r.tunedValue(policy, tr.Name)
		if !ok {
			return fmt.Sprintf("To deploy it: `intelliscale live controller --policy hpa%s` with the target utilisation tuned on your traffic (the table of tuned values, in the report; trace %s's is unreadable; %s).", bounds, tr.Name, liveTarget)
		}
		param = tv.Param
		v := experiments.FormatFloat(float64(tv.Value))
		per[tr.Name] = v
		if !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	if len(values) == 1 {
		return fmt.Sprintf("To deploy it: `intelliscale live controller --policy hpa --params '{%s: %s}'%s` (the value the grid search chose on the training windows; %s).", param, values[0], bounds, liveTarget)
	}
	var each []string
	for _, tr := range r.Config.Traces {
		each = append(each, tr.Name+" "+per[tr.Name])
	}
	return fmt.Sprintf("To deploy it: `intelliscale live controller --policy hpa --params '{%s: V}'%s`, with V the value the grid search chose on the training windows of the traffic most like yours (%s; %s).", param, bounds, strings.Join(each, ", "), liveTarget)
}

// seedTestWords gives one seed's test figures of a policy, the policy a user
// deploys when they export that seed: its cost (mean over traces) and its worst
// test window. "" when a test window has no figure.
func (r *Results) seedTestWords(policy string, seed uint64) string {
	cost, worst := 0.0, math.Inf(-1)
	trs := r.traceNames()
	for _, tr := range trs {
		c, v := r.value(policy, experiments.SplitTest, seed, tr, "cost"), r.value(policy, experiments.SplitTest, seed, tr, "slo_violations")
		if math.IsNaN(c) || math.IsNaN(v) {
			return ""
		}
		cost += c / float64(len(trs))
		worst = math.Max(worst, v)
	}
	if len(trs) == 0 {
		return ""
	}
	return fmt.Sprintf("; on the test windows that seed alone costs %s %s, worst window %s%%", FormatSig(cost, 3), r.costUnit(), FormatSig(worst, 3))
}

// flowYAML renders parameters as one line of flow YAML ("" for none).
func flowYAML(n yaml.Node) string {
	if n.Kind == 0 || (n.Kind == yaml.MappingNode && len(n.Content) == 0) {
		return ""
	}
	var flow func(*yaml.Node) *yaml.Node
	flow = func(x *yaml.Node) *yaml.Node {
		y := *x
		y.Style, y.HeadComment, y.LineComment, y.FootComment = y.Style&^yaml.LiteralStyle&^yaml.FoldedStyle, "", "", ""
		if y.Kind == yaml.MappingNode || y.Kind == yaml.SequenceNode {
			y.Style = yaml.FlowStyle
		}
		y.Content = nil
		for _, c := range x.Content {
			y.Content = append(y.Content, flow(c))
		}
		return &y
	}
	b, err := yaml.Marshal(flow(&n))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// WriteChoiceCSV writes the Choice, one row per family: the point chosen on
// validation at the measured share of the target (empty when none), whether it is
// the recommended one, its validation and test costs (mean and CI over seeds), its
// worst test window and whether that is within the target. The test figures are
// empty without test windows, and the worst window and held are empty when no test
// window was checked (none evaluated, or none had requests).
func WriteChoiceCSV(w io.Writer, c Choice) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"policy", "operating_point", "recommended", "target_percent", "share", "budget_percent", "validation_cost", "validation_cost_ci", "test_cost", "test_cost_ci", "worst_test_window_percent", "held"})
	f := func(x float64) string {
		if math.IsNaN(x) {
			return ""
		}
		return experiments.FormatFloat(x)
	}
	// The target and budget to 10 digits: 1 - 0.95 is not 0.05 in binary.
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 10, 64) }
	for i, rec := range c.Recs {
		row := []string{rec.Family, rec.Variant, fmt.Sprint(i == c.Best), g(c.Target), f(c.Margin), g(c.Budget()), "", "", "", "", "", ""}
		if rec.Variant != "" {
			held := ""
			if !math.IsNaN(rec.WorstTest) {
				held = fmt.Sprint(rec.WorstTest <= c.Target)
			}
			copy(row[6:], []string{f(rec.Validation.Mean), f(rec.Validation.CI), f(rec.Test.Mean), f(rec.Test.CI), f(rec.WorstTest), held})
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}
