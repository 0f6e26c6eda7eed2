package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/intelliscale/intelliscale/experiments"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// ZeroShotTarget is the target for a zero-shot policy: its cost at matched
// SLO at most this many times the cost of the policy trained on the experiment's
// training windows.
const ZeroShotTarget = 1.05

// ZeroShot is a zero-shot policy (experiments.PolicySpec.ZeroShotOf) beside its
// counterpart trained on the experiment's training windows, on the test windows.
type ZeroShot struct {
	Policy, Counterpart string
	// Levels are the SLO levels of the matched costs (Results.SLOLevels).
	Levels []float64
	// Rows: one per trace in config order, then the mean over the traces (Trace "").
	Rows []ZeroShotRow
	// Judged are the levels the target is judged at: 2% and the SLO target's budget
	// when the levels have them, else all of them.
	Judged []float64
	// Verdicts per judged level, on the mean over the traces.
	Verdicts []ZeroShotVerdict
	// Unit and Head name the cost figures' unit in a line and in a column head
	// (Results.costUnit, costHead).
	Unit, Head string
}

// ZeroShotRow is one trace (or the mean over traces) of a zero-shot comparison.
type ZeroShotRow struct {
	Trace              string // "" for the mean over the traces
	ZeroShot, PerTrace ZeroShotFigures
	// Ratio[i] is the zero-shot policy's matched cost over its counterpart's at
	// Levels[i]; NaN unless both reach the level on every seed.
	Ratio []float64
}

// ZeroShotFigures are one policy's test figures on a trace (or their mean over the
// traces): mean and CI over seeds, with the worst seed's violations.
type ZeroShotFigures struct {
	Violations      Stat
	WorstViolations float64
	ScalingActions  Stat
	Cost            Stat
	// Matched[i] is the family's cost at Levels[i] (the method of MatchedSLO, with
	// the frontier read on this trace alone for a trace row).
	Matched []Matched
}

// ZeroShotVerdict says whether the target is met at one level.
type ZeroShotVerdict struct {
	Level float64
	// Met is true when the ratio is at most ZeroShotTarget, or the zero-shot policy
	// reaches a level its counterpart does not; Known is false when neither reaches it.
	Met, Known bool
	Line       string
}

// Met reports whether the target is met at every judged level where it can be
// judged, and at one at least.
func (z ZeroShot) Met() bool {
	known := 0
	for _, v := range z.Verdicts {
		if v.Known && !v.Met {
			return false
		}
		if v.Known {
			known++
		}
	}
	return known > 0
}

// ZeroShots compares every zero-shot policy of the experiment with its counterpart
// on the test windows, in config order.
func (r *Results) ZeroShots() []ZeroShot {
	fams := map[string][]experiments.Variant{}
	for _, f := range r.Families() {
		fams[f[0].Family] = f
	}
	levels := r.SLOLevels()
	budget := math.Round(100*(1-sloTarget(r.Config))*1e9) / 1e9
	var judged []float64
	for _, L := range levels {
		if L == 2 || L == budget {
			judged = append(judged, L)
		}
	}
	if len(judged) == 0 {
		judged = levels
	}
	var out []ZeroShot
	for _, pair := range r.Config.ZeroShotPairs() {
		z := ZeroShot{Policy: pair[0], Counterpart: pair[1], Levels: levels, Judged: judged, Unit: r.costUnit(), Head: r.costHead()}
		groups := [][]string{}
		for _, t := range r.traceNames() {
			groups = append(groups, []string{t})
		}
		groups = append(groups, r.traceNames())
		for i, trs := range groups {
			row := ZeroShotRow{
				ZeroShot: r.zeroShotFigures(fams[z.Policy], trs),
				PerTrace: r.zeroShotFigures(fams[z.Counterpart], trs),
			}
			if i < len(groups)-1 {
				row.Trace = trs[0]
			}
			for j := range levels {
				a, b := row.ZeroShot.Matched[j], row.PerTrace.Matched[j]
				ratio := math.NaN()
				if a.OK() && b.OK() && b.Cost.Mean > 0 {
					ratio = a.Cost.Mean / b.Cost.Mean
				}
				row.Ratio = append(row.Ratio, ratio)
			}
			z.Rows = append(z.Rows, row)
		}
		mean := z.Rows[len(z.Rows)-1]
		for _, L := range judged {
			z.Verdicts = append(z.Verdicts, zeroShotVerdict(z, mean, L))
		}
		out = append(out, z)
	}
	return out
}

// zeroShotFigures are a family's test figures on the traces trs: its base policy's
// violations, scaling actions and cost, and the family's matched costs.
func (r *Results) zeroShotFigures(fam []experiments.Variant, trs []string) ZeroShotFigures {
	name := fam[0].Spec.Name
	per := func(metric string) []float64 {
		var xs []float64
		for _, s := range r.Config.Seeds {
			var ys []float64
			for _, t := range trs {
				ys = append(ys, r.value(name, experiments.SplitTest, s, t, metric))
			}
			xs = append(xs, meanFinite(ys))
		}
		return xs
	}
	viol := per("slo_violations")
	worst := math.NaN()
	for _, v := range viol {
		if !math.IsNaN(v) && (math.IsNaN(worst) || v > worst) {
			worst = v
		}
	}
	return ZeroShotFigures{
		Violations: MeanCI(viol), WorstViolations: worst,
		ScalingActions: MeanCI(per("scaling_actions")),
		Cost:           MeanCI(per("cost")),
		Matched:        r.familyMatched(fam, experiments.SplitTest, trs),
	}
}

// zeroShotVerdict judges the target at level L on the mean row.
func zeroShotVerdict(z ZeroShot, mean ZeroShotRow, L float64) ZeroShotVerdict {
	j := slices.Index(z.Levels, L)
	a, b := mean.ZeroShot.Matched[j], mean.PerTrace.Matched[j]
	v := ZeroShotVerdict{Level: L}
	head := fmt.Sprintf("At %.3g%% SLO violations", L)
	switch {
	case a.OK() && b.OK():
		ratio := mean.Ratio[j]
		v.Known, v.Met = true, ratio <= ZeroShotTarget
		word := "**met**"
		if !v.Met {
			word = "**missed**"
		}
		v.Line = fmt.Sprintf("%s %s costs %s %s against %s for %s: %.3fx (%+.1f%%), target (at most %.2fx) %s.",
			head, z.Policy, costStat(a.Cost), z.Unit, costStat(b.Cost), z.Counterpart, ratio, 100*(ratio-1), ZeroShotTarget, word)
	case a.OK():
		v.Known, v.Met = true, true
		v.Line = fmt.Sprintf("%s %s costs %s %s and %s does not reach the level on every seed (%d of %d): target **met**.",
			head, z.Policy, costStat(a.Cost), z.Unit, z.Counterpart, b.Reached, b.Seeds)
	case b.OK():
		v.Known = true
		v.Line = fmt.Sprintf("%s %s does not reach the level on every seed (%d of %d), %s does at %s %s: target **missed**.",
			head, z.Policy, a.Reached, a.Seeds, z.Counterpart, costStat(b.Cost), z.Unit)
	default:
		v.Line = fmt.Sprintf("%s neither %s (%d of %s) nor %s (%d of %d) reaches the level on every seed: the target cannot be judged there.",
			head, z.Policy, a.Reached, plural(a.Seeds, "seed"), z.Counterpart, b.Reached, b.Seeds)
	}
	return v
}

// Summary is the overall verdict in one sentence.
func (z ZeroShot) Summary() string {
	var lv, unknown []string
	for _, v := range z.Verdicts {
		lv = append(lv, fmt.Sprintf("%.3g%%", v.Level))
		if !v.Known {
			unknown = append(unknown, fmt.Sprintf("%.3g%%", v.Level))
		}
	}
	what := fmt.Sprintf("Target: %s within %.0f%% of the cost of %s at matched SLO (%s violations, mean over the traces' test windows)",
		z.Policy, 100*(ZeroShotTarget-1), z.Counterpart, strings.Join(lv, " and "))
	switch {
	case len(unknown) == len(z.Verdicts):
		return what + ": cannot be judged (neither policy reaches the levels on every seed)."
	case z.Met() && len(unknown) > 0:
		return what + ": **met** where it can be judged (not at " + strings.Join(unknown, ", ") + ")."
	case z.Met():
		return what + ": **met**."
	}
	return what + ": **missed**."
}

// Table renders the comparison: per trace and on the mean, the two policies and the
// ratio of their matched costs.
func (z ZeroShot) Table(seeds int) Table {
	t := Table{
		Title: fmt.Sprintf("Train once, deploy anywhere: %s (own traffic only) against %s (the experiment's training windows), test windows (%s; worst seed in brackets)", z.Policy, z.Counterpart, overSeeds(seeds)),
		Head:  []string{"trace", "policy", "SLO viol. %", "scaling actions", z.Head},
	}
	for _, L := range z.Levels {
		t.Head = append(t.Head, fmt.Sprintf("cost at %.3g%% violations", L))
	}
	matched := func(m Matched) string {
		switch {
		case m.OK():
			return fmt.Sprintf("%s (%.1f)", costStat(m.Cost), m.Worst)
		case m.Reached > 0:
			return fmt.Sprintf("not reached (%d of %s)", m.Reached, plural(m.Seeds, "seed"))
		}
		return "not reached"
	}
	for _, row := range z.Rows {
		trace := row.Trace
		if trace == "" {
			trace = "mean over traces"
		}
		for _, p := range []struct {
			name string
			f    ZeroShotFigures
		}{{z.Counterpart, row.PerTrace}, {z.Policy, row.ZeroShot}} {
			viol := FormatStat(p.f.Violations)
			if !math.IsNaN(p.f.WorstViolations) {
				viol += fmt.Sprintf(" (%.3g)", p.f.WorstViolations)
			}
			cells := []string{trace, p.name, viol, FormatStat(p.f.ScalingActions), costStat(p.f.Cost)}
			for _, m := range p.f.Matched {
				cells = append(cells, matched(m))
			}
			t.Rows = append(t.Rows, cells)
		}
		cells := []string{trace, "ratio zero-shot / per-trace", "", "", ratioCell(row.ZeroShot.Cost.Mean, row.PerTrace.Cost.Mean)}
		for _, x := range row.Ratio {
			cells = append(cells, ratioCell(x, 1))
		}
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// costStat renders a cost in replica-hours to a tenth, as "1139.6 ± 57.8"; FormatStat's
// three significant digits would write 1.14e+03 for the costs of a benchmark.
func costStat(s Stat) string {
	switch {
	case math.IsNaN(s.Mean):
		return "n/a"
	case math.IsNaN(s.CI):
		return fmt.Sprintf("%.1f", s.Mean)
	}
	return fmt.Sprintf("%.1f ± %.1f", s.Mean, s.CI)
}

func ratioCell(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.3fx", a/b)
}

// WriteZeroShotCSV writes zero_shot.csv: per zero-shot policy, trace ("mean" for the
// mean over the traces) and SLO level, both policies' matched costs and the ratio,
// with their test violations and scaling actions.
func WriteZeroShotCSV(w io.Writer, zs []ZeroShot) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"policy", "counterpart", "trace", "slo_level", "cost", "counterpart_cost", "cost_ratio", "slo_violations", "counterpart_slo_violations", "scaling_actions", "counterpart_scaling_actions"})
	f := func(x float64) string {
		if math.IsNaN(x) {
			return ""
		}
		return experiments.FormatFloat(x)
	}
	for _, z := range zs {
		for _, row := range z.Rows {
			trace := row.Trace
			if trace == "" {
				trace = "mean"
			}
			for j, L := range z.Levels {
				a, b := row.ZeroShot, row.PerTrace
				cw.Write([]string{z.Policy, z.Counterpart, trace, experiments.FormatFloat(L), f(a.Matched[j].Cost.Mean), f(b.Matched[j].Cost.Mean), f(row.Ratio[j]),
					f(a.Violations.Mean), f(b.Violations.Mean), f(a.ScalingActions.Mean), f(b.ScalingActions.Mean)})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// zeroShotMarkdown writes the report's "Train once, deploy anywhere" section.
func (r *Results) zeroShotMarkdown(w io.Writer, zs []ZeroShot) {
	if len(zs) == 0 {
		return
	}
	fmt.Fprintln(w, "## Train once, deploy anywhere")
	fmt.Fprintln(w)
	for _, z := range zs {
		fmt.Fprintf(w, "**%s** trains only on its own traffic (%s), never on these traces, and runs unchanged on every trace's test window; **%s** has the same settings trained on the experiment's training windows. Costs at matched SLO are read as in \"Cost at matched SLO\" (each family's frontier per seed; on a trace row, that trace's window alone); the ratio is the zero-shot cost over the per-trace one.\n\n",
			z.Policy, r.trafficOf(z.Policy), z.Counterpart)
		fmt.Fprintf(w, "- %s\n", z.Summary())
		for _, v := range z.Verdicts {
			fmt.Fprintf(w, "- %s\n", v.Line)
		}
		fmt.Fprintln(w)
		t := z.Table(len(r.Config.Seeds))
		fmt.Fprintf(w, "### %s\n\n", t.Title)
		t.Markdown(w)
	}
}

// trafficOf describes a policy's own training traffic.
func (r *Results) trafficOf(policy string) string {
	for _, p := range r.Config.Policies {
		if p.Name != policy || p.Train == nil || p.Train.Traffic == nil {
			continue
		}
		var parts []string
		if d := p.Train.Traffic.Random; d != nil {
			var bs []string
			for _, b := range d.Buckets {
				bs = append(bs, yamldoc.Duration(b))
			}
			parts = append(parts, fmt.Sprintf("%d randomised synthetic traces of %s, seed %d, buckets %s, base rates %g to %g requests/s",
				d.Count, yamldoc.Duration(d.Duration), d.Seed, strings.Join(bs, ", "), d.BaseRate[0], d.BaseRate[1]))
		}
		for _, s := range p.Train.Traffic.Traces {
			parts = append(parts, s.Name())
		}
		return strings.Join(parts, "; ")
	}
	return "its train.traffic"
}
