package reports

import (
	"fmt"
	"math"

	"github.com/intelliscale/intelliscale/experiments"
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
	// WorstTest is the variant's highest SLO violations (%) on any test window.
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
// trace nothing can be left out and the choice is made at the full target.
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
	// passed); empty with fewer than two traces.
	Checks []MarginCheck
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
	if len(all) > 1 {
		c.Margin = math.NaN()
		for _, m := range Margins {
			mc := MarginCheck{Margin: m}
			for i, out := range all {
				rest := append(append([]string{}, all[:i]...), all[i+1:]...)
				f := Fold{HeldOut: out, Worst: math.NaN()}
				if recs, best := r.choose(m*target, rest); best >= 0 {
					f.Variant = recs[best].Variant
					f.Worst = r.worstOn(f.Variant, experiments.SplitValidation, []string{out})
					f.Held = len(r.failuresOn(f.Variant, target, []string{out})) == 0
				}
				mc.Folds = append(mc.Folds, f)
			}
			c.Checks = append(c.Checks, mc)
			if mc.Held() == len(all) {
				c.Margin = m
				break
			}
		}
	}
	c.Recs, c.Best = r.choose(c.Budget(), all)
	for i := range c.Recs {
		rec := &c.Recs[i]
		if rec.Variant != "" {
			rec.Test = r.Figure(rec.Variant, experiments.SplitTest, "cost")
			rec.WorstTest = r.worstWindow(rec.Variant, experiments.SplitTest)
			rec.VsOracle = r.CostVsOracle(rec.Variant, experiments.SplitTest).Mean
		}
	}
	return c
}

// choose applies the eligibility rule at budget on the validation windows of the
// traces trs: per family in config order its cheapest eligible variant (mean
// validation cost over trs), and the index of the cheapest of those but the
// oracle's (-1 when none). Test figures are left unset.
func (r *Results) choose(budget float64, trs []string) ([]Recommendation, int) {
	kinds := r.kinds()
	best := -1
	var out []Recommendation
	for i, fam := range r.Families() {
		rec := Recommendation{Family: fam[0].Family, WorstTest: math.NaN(), VsOracle: math.NaN(),
			Oracle: kinds[fam[0].Family] == experiments.KindOracle}
		for _, v := range fam {
			if len(r.failuresOn(v.Spec.Name, budget, trs)) > 0 {
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
	per := make([]float64, 0, len(r.Config.Seeds))
	for _, s := range r.Config.Seeds {
		xs := make([]float64, 0, len(trs))
		for _, t := range trs {
			xs = append(xs, r.value(policy, split, s, t, metric))
		}
		per = append(per, meanFinite(xs))
	}
	return MeanCI(per)
}

// budgetWords says at what share of the target a choice was made.
func (c Choice) budgetWords() string {
	switch {
	case len(c.Checks) == 0:
		return "within the target"
	case math.IsNaN(c.Margin):
		return "within the target (no smaller share passed the leave-one-trace-out check)"
	case c.Margin == 1:
		return "within the target"
	}
	return fmt.Sprintf("within %s%% violations, %.0f%% of the target", FormatSig(c.Budget(), 3), 100*c.Margin)
}

// recommendTable renders the Choice: the recommended point in bold, a ✗ beside a
// test window that broke the target.
func (r *Results) recommendTable(c Choice) Table {
	t := Table{Title: fmt.Sprintf("Chosen on validation: each family's cheapest eligible operating point (every validation window of every seed %s, at most %gx the oracle's scaling actions), and its test figures (replica-hours, mean over traces; mean ± 95%% CI over %d seeds; ✗: a test window over the %.3g%% target)", c.budgetWords(), float64(MaxActionsVsOracle), len(r.Config.Seeds), c.Target),
		Head: []string{"policy", "operating point", "validation cost", "test cost", "worst test window % violations"}}
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
		if !(rec.WorstTest <= c.Target) {
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
	t := Table{Title: fmt.Sprintf("Leave one trace out: the point chosen on the validation windows of the other traces at a share of the %.3g%% target, and its worst validation window on the trace left out (%% violations; ✗: over the target, or over %gx the oracle's scaling actions)", c.Target, float64(MaxActionsVsOracle)),
		Head: []string{"share of the target", "budget %"}}
	for _, f := range c.Checks[0].Folds {
		t.Head = append(t.Head, "left out: "+f.HeldOut)
	}
	t.Head = append(t.Head, "held")
	for _, mc := range c.Checks {
		row := []string{fmt.Sprintf("%.0f%%", 100*mc.Margin), FormatSig(mc.Margin*c.Target, 3)}
		for _, f := range mc.Folds {
			cell := "none eligible"
			if f.Variant != "" {
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

// recommendLine says which operating point to run at the SLO target, chosen on
// validation, how the margin was set, and how the choice fared on the test windows.
func (r *Results) recommendLine(c Choice) string {
	rule := fmt.Sprintf("the cheapest eligible operating point of any family: every validation window of every seed %s, at most %gx the oracle's scaling actions", c.budgetWords(), float64(MaxActionsVsOracle))
	var margin string
	if n := len(c.Checks); n > 0 {
		first := c.Checks[0]
		if math.IsNaN(c.Margin) {
			margin = fmt.Sprintf(" Left out of the choice, a trace broke the target at every share of it tried, down to %.0f%% (at the full target the choice made on the others held on %d of %d traces left out), so the choice is made at the full target and may not hold on other traffic.", 100*Margins[len(Margins)-1], first.Held(), len(first.Folds))
		} else if c.Margin < 1 {
			margin = fmt.Sprintf(" The share of the target is set on validation too, by leaving one trace out: chosen on the other traces at the full target, the point held the target on %d of %d traces left out; at %.0f%% of it, on all %d.", first.Held(), len(first.Folds), 100*c.Margin, len(first.Folds))
		} else {
			margin = fmt.Sprintf(" Left out of the choice, each of the %d traces held the target under the point chosen on the others.", len(first.Folds))
		}
	}
	if c.Best < 0 {
		return fmt.Sprintf("To run at the %.3g%% target: no operating point of any family but the oracle is eligible on the validation windows (%s), so none is recommended.", c.Target, rule)
	}
	rec := c.Recs[c.Best]
	line := fmt.Sprintf("To run at the %.3g%% target, chosen on the validation windows alone (%s): **%s**.%s On the test windows it costs %s replica-hours", c.Target, rule, rec.Variant, margin, FormatStat(rec.Test))
	if !math.IsNaN(rec.VsOracle) {
		line += fmt.Sprintf(" (%.2fx the oracle)", rec.VsOracle)
	}
	if rec.WorstTest <= c.Target {
		return line + fmt.Sprintf(", and its worst test window has %s%% violations: the choice held.", FormatSig(rec.WorstTest, 3))
	}
	return line + fmt.Sprintf(", but its worst test window has %s%% violations: the choice did not hold there.", FormatSig(rec.WorstTest, 3))
}

// strictTable renders StrictSLO at the SLO target, the cheapest family in bold.
func (r *Results) strictTable() Table {
	budget := 100 * (1 - sloTarget(r.Config))
	ss := r.StrictSLO(budget)
	kinds := r.kinds()
	t := Table{Title: fmt.Sprintf("Cheapest operating point within %.3g%% violations on every test window of every seed (replica-hours, mean over traces; mean ± 95%% CI over %d seeds)", budget, len(r.Config.Seeds)),
		Head: []string{"policy", "operating point", "cost", "worst window % violations"}}
	best := -1
	for i, s := range ss {
		if s.Variant != "" && kinds[s.Family] != experiments.KindOracle && (best < 0 || s.Cost.Mean < ss[best].Cost.Mean) {
			best = i
		}
	}
	for i, s := range ss {
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
func (r *Results) kinds() map[string]string {
	m := map[string]string{}
	for _, p := range r.Config.Policies {
		m[p.Name] = p.Kind
	}
	return m
}
