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
			worst := math.Inf(-1)
			for _, tr := range r.Config.Traces {
				for _, seed := range r.Config.Seeds {
					x := r.value(name, experiments.SplitTest, seed, tr.Name, "slo_violations")
					if math.IsNaN(x) {
						worst = math.Inf(1)
					}
					worst = math.Max(worst, x)
				}
			}
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
