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
	worst := math.Inf(-1)
	for _, tr := range r.Config.Traces {
		for _, seed := range r.Config.Seeds {
			x := r.value(policy, split, seed, tr.Name, "slo_violations")
			if math.IsNaN(x) {
				return math.Inf(1)
			}
			worst = math.Max(worst, x)
		}
	}
	return worst
}

// Recommendation is a family's operating point chosen on the validation windows
// (its cheapest eligible one: every validation window of every seed within the SLO
// target, and at most MaxActionsVsOracle times the oracle's scaling actions on
// each, the rule learned policies are held to), with its figures on the test
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

// Recommend chooses, per family, the operating point to run at the SLO target on
// the validation windows alone, and returns them in config order with the index
// of the recommended one: the cheapest on validation of every family but the
// oracle's (-1 when none qualifies, or without validation windows).
func (r *Results) Recommend() ([]Recommendation, int) {
	budget := 100 * (1 - sloTarget(r.Config))
	kinds := r.kinds()
	best := -1
	var out []Recommendation
	for i, fam := range r.Families() {
		rec := Recommendation{Family: fam[0].Family, WorstTest: math.NaN(), VsOracle: math.NaN(),
			Oracle: kinds[fam[0].Family] == experiments.KindOracle}
		for _, v := range fam {
			if len(r.Eligibility(v.Spec.Name, budget)) > 0 {
				continue
			}
			if c := r.Figure(v.Spec.Name, experiments.SplitValidation, "cost"); rec.Variant == "" || c.Mean < rec.Validation.Mean {
				rec.Variant, rec.Validation = v.Spec.Name, c
			}
		}
		if rec.Variant != "" {
			rec.Test = r.Figure(rec.Variant, experiments.SplitTest, "cost")
			rec.WorstTest = r.worstWindow(rec.Variant, experiments.SplitTest)
			rec.VsOracle = r.CostVsOracle(rec.Variant, experiments.SplitTest).Mean
			if !rec.Oracle && (best < 0 || rec.Validation.Mean < out[best].Validation.Mean) {
				best = i
			}
		}
		out = append(out, rec)
	}
	return out, best
}

// recommendTable renders Recommend: the recommended point in bold, a ✗ beside a
// test window that broke the target.
func (r *Results) recommendTable(recs []Recommendation, best int) Table {
	budget := 100 * (1 - sloTarget(r.Config))
	t := Table{Title: fmt.Sprintf("Chosen on validation: each family's cheapest eligible operating point (every validation window of every seed within %.3g%% violations, at most %gx the oracle's scaling actions), and its test figures (replica-hours, mean over traces; mean ± 95%% CI over %d seeds)", budget, float64(MaxActionsVsOracle), len(r.Config.Seeds)),
		Head: []string{"policy", "operating point", "validation cost", "test cost", "worst test window % violations"}}
	for i, rec := range recs {
		if rec.Variant == "" {
			t.Rows = append(t.Rows, []string{rec.Family, "none", "", "", ""})
			continue
		}
		test := FormatStat(rec.Test)
		if !math.IsNaN(rec.VsOracle) && !rec.Oracle {
			test += fmt.Sprintf(", %.2fx oracle", rec.VsOracle)
		}
		point := rec.Variant
		if i == best {
			point = "**" + point + "** recommended"
		}
		worst := FormatSig(rec.WorstTest, 3)
		if !(rec.WorstTest <= budget) {
			worst += " ✗"
		}
		t.Rows = append(t.Rows, []string{rec.Family, point, FormatStat(rec.Validation), test, worst})
	}
	return t
}

// recommendLine says which operating point to run at the SLO target, chosen on
// validation, and how it fared on the test windows.
func (r *Results) recommendLine(recs []Recommendation, best int) string {
	budget := 100 * (1 - sloTarget(r.Config))
	if best < 0 {
		return fmt.Sprintf("To run at the %.3g%% target: no operating point of any family but the oracle is eligible on the validation windows (every window of every seed within the target, at most %gx the oracle's scaling actions), so none is recommended.", budget, float64(MaxActionsVsOracle))
	}
	rec := recs[best]
	line := fmt.Sprintf("To run at the %.3g%% target, chosen on the validation windows alone (the cheapest eligible operating point of any family: every validation window of every seed within the target, at most %gx the oracle's scaling actions): **%s**. On the test windows it costs %s replica-hours", budget, float64(MaxActionsVsOracle), rec.Variant, FormatStat(rec.Test))
	if !math.IsNaN(rec.VsOracle) {
		line += fmt.Sprintf(" (%.2fx the oracle)", rec.VsOracle)
	}
	if rec.WorstTest <= budget {
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
