package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/intelliscale/intelliscale/experiments"
	"github.com/intelliscale/intelliscale/internal/atomicfile"
	"github.com/intelliscale/intelliscale/sim"
)

// Table is a titled grid of cells rendered to Markdown and to the terminal.
type Table struct {
	Title string
	Head  []string
	Rows  [][]string
}

// Markdown renders the table as GitHub-flavoured Markdown.
func (t Table) Markdown(w io.Writer) {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	fmt.Fprintf(w, "| %s |\n|", strings.Join(mapStr(t.Head, esc), " | "))
	for i := range t.Head {
		if i == 0 {
			fmt.Fprint(w, " --- |")
		} else {
			fmt.Fprint(w, " ---: |")
		}
	}
	fmt.Fprintln(w)
	for _, r := range t.Rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(mapStr(r, esc), " | "))
	}
	fmt.Fprintln(w)
}

// Terminal renders the table with tablewriter.
func (t Table) Terminal(w io.Writer) error {
	if t.Title != "" {
		fmt.Fprintln(w, t.Title)
	}
	tbl := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	head := make([]any, len(t.Head))
	for i, h := range t.Head {
		head[i] = h
	}
	tbl.Header(head...)
	for _, r := range t.Rows {
		if err := tbl.Append(r); err != nil {
			return err
		}
	}
	return tbl.Render()
}

func mapStr(xs []string, f func(string) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// FormatStat renders "mean ± ci" with three significant digits (two for the
// interval), large values as whole numbers (FormatSig); "n/a" when undefined.
func FormatStat(s Stat) string {
	if math.IsNaN(s.Mean) {
		return "n/a"
	}
	if math.IsNaN(s.CI) {
		return FormatSig(s.Mean, 3)
	}
	ci := s.CI
	if ci < 1e-9*math.Abs(s.Mean) {
		ci = 0
	}
	return FormatSig(s.Mean, 3) + " ± " + FormatSig(ci, 2)
}

// FormatSig renders x with sig significant digits as %g does, except where %g would
// write an exponent for a value of at least 1 in magnitude (below 1e15): that value
// is rounded to a whole number and written with thousands separators ("1,079", not
// "1.08e+03"; "120", not "1.2e+02"), so figures such as replica-hours stay readable
// at realistic scale.
func FormatSig(x float64, sig int) string {
	a := math.Abs(x)
	g := strconv.FormatFloat(x, 'g', sig, 64)
	if !strings.ContainsRune(g, 'e') || !(a >= 1) || a >= 1e15 {
		return g
	}
	return FormatWhole(x)
}

// FormatWhole renders x rounded to a whole number with thousands separators
// ("1,891"); %g beyond 1e15 and for NaN and infinities.
func FormatWhole(x float64) string {
	a := math.Abs(x)
	if !(a < 1e15) {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	digits := strconv.FormatInt(int64(math.Round(a)), 10)
	var b strings.Builder
	if x < 0 {
		b.WriteByte('-')
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// testColumns are the per-policy figures on the test windows.
var testColumns = []struct{ head, metric string }{
	{"SLO viol. %", "slo_violations"},
	{"p95 s", "p95_seconds"},
	{"p99 s", "p99_seconds"},
	{"cost (replica-h)", "cost"},
	{"cost / oracle", "cost_vs_oracle"},
	{"scaling actions", "scaling_actions"},
	{"accuracy %", "accuracy"},
	{"θ_U %", "theta_u"},
	{"θ_O %", "theta_o"},
	{"under-prov. s", "under_provision_seconds"},
}

// worstColumns are the figures shown with their worst seed beside the mean.
var worstColumns = map[string]bool{"slo_violations": true, "cost": true, "scaling_actions": true}

func (r *Results) stat(policy, split, metric string) Stat {
	if metric == "cost_vs_oracle" {
		return r.CostVsOracle(policy, split)
	}
	return r.Figure(policy, split, metric)
}

// Tables builds the report's tables from results and headline.
func (r *Results) Tables(h *Headline) []Table {
	var out []Table
	if len(h.Candidates) > 0 {
		t := Table{Title: fmt.Sprintf("Selection of the learned policy on the validation windows (eligible: %s)", r.eligibleWords(h.SLOBudget)),
			Head: []string{"policy", "kind", "SLO viol. %", r.costHead(), "eligible", "chosen", "failed seeds and why"}}
		for _, c := range h.Candidates {
			chosen := ""
			switch {
			case c.Policy == h.Winner && h.Qualified:
				chosen = "yes"
			case c.Policy == h.Winner && len(h.Comparisons) > 0:
				chosen = "no: for reference only"
			case c.Policy == h.Winner:
				chosen = "no"
			}
			why := ""
			if len(c.Summary) > 0 {
				why = strings.Join(c.Summary, ". ")
			}
			t.Rows = append(t.Rows, []string{c.Policy, c.Kind, FormatStat(c.SLOViolations), FormatStat(c.Cost), yesNo(c.Qualified), chosen, why})
		}
		out = append(out, t)
	}
	if h.Winner != "" && len(h.Comparisons) > 0 {
		title := fmt.Sprintf("Headline: %s against the baselines on the test windows (%s)", h.Winner, overSeeds(len(r.Config.Seeds)))
		if !h.Qualified {
			title = fmt.Sprintf("For reference only, no learned policy being eligible: %s against the baselines on the test windows (%s)", h.Winner, overSeeds(len(r.Config.Seeds)))
		}
		t := Table{Title: title,
			Head: []string{"baseline", "under-prov. duration improvement %", "θ_O reduction %", "cost reduction %", "accuracy Δ points", "SLO viol. Δ points"}}
		for _, c := range h.Comparisons {
			t.Rows = append(t.Rows, []string{c.Baseline, FormatStat(c.UnderProvisioning), FormatStat(c.ThetaO), FormatStat(c.Cost), FormatStat(c.Accuracy), FormatStat(c.SLOViolations)})
		}
		out = append(out, t)
	}
	t := Table{Title: fmt.Sprintf("All policies on the test windows (%s, traces averaged; worst seed in brackets)", overSeeds(len(r.Config.Seeds))),
		Head: []string{"policy", "kind"}}
	for _, c := range testColumns {
		if c.metric == "cost" {
			t.Head = append(t.Head, r.costHead())
			continue
		}
		t.Head = append(t.Head, c.head)
	}
	for _, p := range r.Config.Policies {
		row := []string{p.Name, p.Kind}
		for _, c := range testColumns {
			cell := FormatStat(r.stat(p.Name, experiments.SplitTest, c.metric))
			if worstColumns[c.metric] {
				if w, ws := r.WorstSeed(p.Name, experiments.SplitTest, c.metric); !math.IsNaN(w) {
					cell += fmt.Sprintf(" (%s, seed %d)", FormatSig(w, 3), ws)
				}
			}
			row = append(row, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	out = append(out, t)
	for _, tr := range r.Config.Traces {
		t := Table{Title: fmt.Sprintf("Trace %s, test window", tr.Name), Head: []string{"policy", "SLO viol. %", "p95 s", r.costHead(), "accuracy %", "scaling actions"}}
		for _, p := range r.Config.Policies {
			row := []string{p.Name}
			for _, m := range []string{"slo_violations", "p95_seconds", "cost", "accuracy", "scaling_actions"} {
				row = append(row, FormatStat(r.TraceFigure(p.Name, experiments.SplitTest, tr.Name, m)))
			}
			t.Rows = append(t.Rows, row)
		}
		out = append(out, t)
	}
	return out
}

// plural is n and the noun, with an s unless n is 1: "1 seed", "3 seeds".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// overSeeds says what a table's figures are over the experiment's n seeds: the mean
// with its 95% CI, or with one seed that seed's figure, which has no interval.
func overSeeds(n int) string {
	if n == 1 {
		return "over 1 seed (no confidence interval)"
	}
	return fmt.Sprintf("mean ± 95%% CI over %d seeds", n)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// WriteHeadlineCSV writes headline.csv: one row per figure (section, policy,
// baseline, metric, mean, ci95, n) for spreadsheets and pandas.
func (r *Results) WriteHeadlineCSV(w io.Writer, h *Headline) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"section", "policy", "baseline", "metric", "mean", "ci95", "n"})
	row := func(sec, pol, base, metric string, s Stat) {
		cw.Write([]string{sec, pol, base, metric, experiments.FormatFloat(s.Mean), experiments.FormatFloat(s.CI), strconv.Itoa(s.N)})
	}
	for _, c := range h.Candidates {
		row("validation", c.Policy, "", "slo_violations", c.SLOViolations)
		row("validation", c.Policy, "", "cost", c.Cost)
	}
	for _, c := range h.Comparisons {
		row("headline", h.Winner, c.Baseline, "under_provision_improvement_percent", c.UnderProvisioning)
		row("headline", h.Winner, c.Baseline, "theta_o_reduction_percent", c.ThetaO)
		row("headline", h.Winner, c.Baseline, "cost_reduction_percent", c.Cost)
		row("headline", h.Winner, c.Baseline, "accuracy_difference_points", c.Accuracy)
		row("headline", h.Winner, c.Baseline, "slo_violations_difference_points", c.SLOViolations)
	}
	for _, p := range r.Config.Policies {
		for _, c := range testColumns {
			row("test", p.Name, "", c.metric, r.stat(p.Name, experiments.SplitTest, c.metric))
		}
	}
	cw.Flush()
	return cw.Error()
}

// tunedValues lists the grid-search outcomes on disk.
func (r *Results) tunedValues() Table {
	t := Table{Title: "Tuned parameters (grid search on the training windows)", Head: []string{"policy", "trace", "parameter", "value", "meets SLO on train"}}
	for _, p := range r.Config.Policies {
		if p.Kind != experiments.KindHPATuned {
			continue
		}
		for _, tr := range r.Config.Traces {
			tv, ok := r.tunedValue(p.Name, tr.Name)
			if !ok {
				continue
			}
			t.Rows = append(t.Rows, []string{p.Name, tr.Name, tv.Param, experiments.FormatFloat(float64(tv.Value)), yesNo(tv.Qualified)})
		}
	}
	return t
}

// costUnit names the unit of the cost figures: replica-hours at the simulator's
// default price of 1 per replica-hour, else "cost units", replica-hours times
// sim.cost_per_replica_hour, as costUnitWords says.
func (r *Results) costUnit() string {
	if r.priced() {
		return "cost units"
	}
	return "replica-hours"
}

// costHead is costUnit in a table's column head: "cost (replica-h)", "cost (cost units)".
func (r *Results) costHead() string {
	if r.priced() {
		return "cost (cost units)"
	}
	return "cost (replica-h)"
}

// priced reports whether the config bills a replica-hour at other than 1, so that
// a cost is not a count of replica-hours.
func (r *Results) priced() bool {
	p := r.Config.Sim.CostPerReplicaHour
	return p != 0 && p != sim.DefaultCostPerReplicaHour
}

// costUnitWords says what a cost unit is when a replica-hour is priced: "cost
// units, replica-hours times sim.cost_per_replica_hour (0.05)"; "replica-hours"
// otherwise.
func (r *Results) costUnitWords() string {
	if r.priced() {
		return fmt.Sprintf("cost units, replica-hours times sim.cost_per_replica_hour (%s)", FormatSig(r.Config.Sim.CostPerReplicaHour, 3))
	}
	return "replica-hours"
}

// windowsLine says how long each evaluated window is, from the cells on disk, so
// that a cost per window can be read as a cost per day; "" when none is readable.
func (r *Results) windowsLine() string {
	var per []string
	for _, tr := range r.Config.Traces {
		var parts []string
		for _, split := range []string{experiments.SplitTrain, experiments.SplitValidation, experiments.SplitTest} {
			if h, ok := r.windowHours(tr.Name, split); ok {
				parts = append(parts, fmt.Sprintf("%s %s h", split, FormatSig(h, 3)))
			}
		}
		if len(parts) > 0 {
			per = append(per, tr.Name+" "+strings.Join(parts, ", "))
		}
	}
	if len(per) == 0 {
		return ""
	}
	return "Costs are " + r.costUnitWords() + " per window (means over traces); the windows last: " + strings.Join(per, "; ") + "."
}

// windowHours is the length of a trace's window in hours, read from the first
// evaluated cell of it whose metrics.json is readable (every cell of a window has
// the same length).
func (r *Results) windowHours(trace, split string) (float64, bool) {
	for _, c := range r.Cells {
		if c.Trace != trace || c.Split != split {
			continue
		}
		data, err := os.ReadFile(filepath.Join(r.Dir, "cells", c.Cell, "metrics.json"))
		var m experiments.CellMetrics
		if err != nil || json.Unmarshal(data, &m) != nil || !(m.WindowEnd > m.WindowStart) {
			continue
		}
		return (m.WindowEnd - m.WindowStart) / 3600, true
	}
	return 0, false
}

// tunedValue reads the grid search's outcome of a tuned HPA policy on a trace.
func (r *Results) tunedValue(policy, trace string) (experiments.TunedValue, bool) {
	var tv experiments.TunedValue
	c := experiments.Cell{Phase: experiments.PhaseTune, Policy: policy, Kind: experiments.KindHPATuned, Trace: trace}
	data, err := os.ReadFile(filepath.Join(r.Dir, c.Dir(), "chosen.json"))
	if err != nil || json.Unmarshal(data, &tv) != nil {
		return tv, false
	}
	return tv, true
}

// Build reads a results directory and writes dir/headline.csv and the report in
// dir/report (REPORT.md, PNG and SVG plots). When term is not nil the headline
// tables are printed there too. It never reruns anything.
func Build(dir string, term io.Writer) error {
	r, err := Load(dir)
	if err != nil {
		return err
	}
	h, err := r.ComputeHeadline()
	if errors.Is(err, ErrNoSplit) {
		h = &Headline{SLOBudget: 100 * (1 - sloTarget(r.Config)), Notes: []string{"No headline: " + err.Error() + " (the config's eval lists " + strings.Join(r.Config.Eval, ", ") + ")."}}
	} else if err != nil {
		return err
	}
	var hc, fc, mc bytes.Buffer
	if err := r.WriteHeadlineCSV(&hc, h); err != nil {
		return err
	}
	ms := r.MatchedSLO(r.MatchedSplit())
	if err := r.WriteFrontierCSV(&fc); err != nil {
		return err
	}
	if err := WriteMatchedCSV(&mc, ms); err != nil {
		return err
	}
	type file struct {
		name string
		data []byte
	}
	// Read on the validation windows (MatchedSplit), the file says so in its name.
	matchedFile := "matched_slo.csv"
	if split := r.MatchedSplit(); split != experiments.SplitTest {
		matchedFile = "matched_slo_" + split + ".csv"
	}
	files := []file{{"headline.csv", hc.Bytes()}, {"frontier.csv", fc.Bytes()}, {matchedFile, mc.Bytes()}}
	zs := r.ZeroShots()
	if len(zs) > 0 {
		var zc bytes.Buffer
		if err := WriteZeroShotCSV(&zc, zs); err != nil {
			return err
		}
		files = append(files, file{"zero_shot.csv", zc.Bytes()})
	}
	choice := r.Recommend()
	var cc bytes.Buffer
	if err := WriteChoiceCSV(&cc, choice); err != nil {
		return err
	}
	files = append(files, file{"choice.csv", cc.Bytes()})
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	lead := []Table{r.matchedTable(ms), r.complianceTable(h), r.strictTable(), r.recommendTable(choice)}
	if t := r.transferTable(choice); t != nil {
		lead = append(lead, *t)
	}
	tables := r.Tables(h)
	if term != nil {
		for _, t := range lead {
			if err := t.Terminal(term); err != nil {
				return err
			}
			fmt.Fprintln(term)
		}
		for _, l := range r.cheapestLines(ms) {
			fmt.Fprintln(term, strings.ReplaceAll(l, "**", ""))
		}
		fmt.Fprintln(term, strings.ReplaceAll(r.recommendLine(choice), "**", ""))
		fmt.Fprintln(term)
		for _, t := range tables {
			if strings.HasPrefix(t.Title, "Trace ") {
				continue // per-trace tables are in the report only
			}
			if err := t.Terminal(term); err != nil {
				return err
			}
			fmt.Fprintln(term)
		}
		for _, z := range zs {
			if err := z.Table(len(r.Config.Seeds)).Terminal(term); err != nil {
				return err
			}
			fmt.Fprintln(term, strings.ReplaceAll(z.Summary(), "**", ""))
			for _, v := range z.Verdicts {
				fmt.Fprintln(term, "  "+strings.ReplaceAll(v.Line, "**", ""))
			}
			fmt.Fprintln(term)
		}
		for _, n := range h.Notes {
			fmt.Fprintln(term, n)
		}
		for _, c := range h.Comparisons {
			for _, v := range c.Verdicts {
				fmt.Fprintln(term, "  "+v)
			}
		}
	}
	repDir := filepath.Join(dir, "report")
	if err := os.MkdirAll(repDir, 0o755); err != nil {
		return err
	}
	plots, err := r.Plots(repDir)
	if err != nil {
		return err
	}
	var md bytes.Buffer
	r.markdown(&md, h, ms, zs, r.recommendLine(choice), r.belowOracle(ms, choice), lead, tables, plots)
	return writeFile(filepath.Join(repDir, "REPORT.md"), md.Bytes())
}

// ReadmeCut is the line of REPORT.md after which the README's generated section stops.
const ReadmeCut = "<!-- readme:end -->"

// markdown writes REPORT.md; below is belowOracle's answer for the report's figures.
func (r *Results) markdown(w io.Writer, h *Headline, ms []Matched, zs []ZeroShot, recommend string, below bool, lead, tables []Table, plots []Plot) {
	cfg := r.Config
	fmt.Fprintf(w, "# Experiment %s\n\n", cfg.Name)
	var tn []string
	for _, t := range cfg.Traces {
		tn = append(tn, t.Name)
	}
	var pn []string
	for _, p := range cfg.Policies {
		pn = append(pn, fmt.Sprintf("%s (%s)", p.Name, p.Kind))
	}
	fmt.Fprintf(w, "Traces: %s. Policies: %s. Seeds: %v.\n\n", strings.Join(tn, ", "), strings.Join(pn, ", "), cfg.Seeds)
	if l := r.windowsLine(); l != "" {
		fmt.Fprintf(w, "%s\n\n", l)
	}
	if b, err := os.ReadFile(filepath.Join(r.Dir, "build.txt")); err == nil && len(bytes.TrimSpace(b)) > 0 {
		fmt.Fprintf(w, "Produced by %s.\n\n", strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "; "))
	}
	fmt.Fprintln(w, "## Cost at matched SLO")
	fmt.Fprintln(w)
	oracleWords := "The oracle is the floor"
	breaks := r.oracleBreaksWords()
	if breaks != "" {
		oracleWords = "The oracle knows the future"
	}
	if below {
		points := "point"
		if r.oracleVariants() > 1 {
			points = "points"
		}
		oracleWords = "The oracle, which knows the future, is a reference at its configured operating " + points + ", not a floor: another policy can cost less than it (a ratio below 1x the oracle)"
	}
	fmt.Fprintln(w, "Each family (a policy and its knob sweep) is read along its cost-against-SLO frontier on the "+r.MatchedSplit()+" windows at common SLO levels: the cost of the cheapest operating point of that family that keeps SLO violations at the level (Method, below). "+oracleWords+"; a family that does not reach a level on every seed is \"not reached\"."+breaks)
	fmt.Fprintln(w)
	for _, l := range r.cheapestLines(ms) {
		fmt.Fprintf(w, "- %s\n", l)
	}
	fmt.Fprintf(w, "- %s\n", recommend)
	fmt.Fprintln(w)
	for _, t := range lead {
		fmt.Fprintf(w, "### %s\n\n", t.Title)
		t.Markdown(w)
	}
	for _, p := range plots {
		if p.File == "frontier" {
			fmt.Fprintf(w, "![%s](%s)\n\n(SVG: [%s](%s))\n\n", p.Title, p.File+".png", p.File+".svg", p.File+".svg")
		}
	}
	fmt.Fprintln(w, ReadmeCut)
	fmt.Fprintln(w)
	r.zeroShotMarkdown(w, zs)
	fmt.Fprintln(w, "## Learned policy against the baselines")
	fmt.Fprintln(w)
	// Without baselines (none named and no threshold or hpa-tuned policy, the
	// default ones) there is nothing to compare the learned policy with.
	noBaselines := "There is no baseline to compare it with on the test windows: the config names none (the key baselines) and has no policy of kind threshold or hpa-tuned, the default ones."
	switch {
	case h.Winner != "" && h.Qualified:
		fmt.Fprintf(w, "The learned policy is chosen on the validation windows only: the lowest cost among the eligible learned policies (%s). Chosen: **%s**", r.eligibleWords(h.SLOBudget), h.Winner)
		if len(cfg.Baselines) == 0 {
			fmt.Fprintln(w, ". "+noBaselines)
		} else {
			fmt.Fprintln(w, ". It is then compared on the test windows, which played no part in any choice.")
		}
		fmt.Fprintln(w)
	case h.Winner != "":
		// The note below says why none is chosen and which policy stands in.
		fmt.Fprint(w, "The learned policy is chosen on the validation windows only, the cheapest of the eligible ones; the test windows play no part in the choice.")
		if len(cfg.Baselines) == 0 {
			fmt.Fprint(w, " "+strings.Replace(noBaselines, "compare it with", "compare a learned policy with", 1))
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w)
	}
	for _, n := range h.Notes {
		fmt.Fprintf(w, "> %s\n\n", n)
	}
	for _, c := range h.Comparisons {
		for _, v := range c.Verdicts {
			fmt.Fprintf(w, "- %s\n", v)
		}
	}
	if len(h.Comparisons) > 0 {
		fmt.Fprintln(w)
	}
	for _, t := range tables {
		fmt.Fprintf(w, "### %s\n\n", t.Title)
		t.Markdown(w)
	}
	if tt := r.tunedValues(); len(tt.Rows) > 0 {
		fmt.Fprintf(w, "### %s\n\n", tt.Title)
		tt.Markdown(w)
	}
	if len(plots) > 0 {
		fmt.Fprintln(w, "## Plots")
		fmt.Fprintln(w)
		for _, p := range plots {
			if p.File == "frontier" {
				continue // in the headline
			}
			fmt.Fprintf(w, "### %s\n\n![%s](%s)\n\n(SVG: [%s](%s))\n\n", p.Title, p.Title, p.File+".png", p.File+".svg", p.File+".svg")
			if p.Note != "" {
				fmt.Fprintf(w, "%s\n\n", p.Note)
			}
		}
	}
	method := `## Method

- **Cost at matched SLO.** For each family (a configured policy plus the values of its sweep) and each seed, every variant is one point (SLO violations, cost), each the mean over the traces' test windows of that seed. The family's frontier for the seed is the lower monotone envelope of its points: sorted by violations, the points that no other point beats on both figures (fewer or equal violations at lower cost). The cost at SLO level L is read on that envelope by straight-line interpolation between the two envelope points whose violations bracket L; at or beyond the envelope's cheapest point it is that point's cost (it already meets L). Below the envelope's fewest-violations point there is no extrapolation: the seed does not reach L. A family's cost at L is the mean and 95% CI over seeds, with the worst (highest) seed beside it, and only when every seed reaches L; otherwise it is reported as not reached, with the number of seeds that do. The cheapest family at L is the one with the lowest mean among those that reach it, the oracle (the floor) aside; "x oracle" is the family's mean over the oracle family's mean at L. Levels: slo_levels in the config (default 1%, 2% and the target's budget).
- **Train once, deploy anywhere** (when a policy has zero_shot_of): the zero-shot policy and its counterpart are read at the same SLO levels by the same method, on each trace's test window alone and on the mean over the traces; the ratio is the zero-shot policy's mean matched cost over its counterpart's. The target (zero-shot within 5% of the counterpart's cost at matched SLO) is judged on the mean over the traces at 2% and at the SLO target's budget.
- **Per-trace compliance** flags a policy with ✗ on a trace when any seed's test window breaks the SLO target there.
- **Eligibility of a learned policy**: every seed must meet the SLO target on every validation window and make at most 3x the oracle's scaling actions on it; the report lists each seed that failed and why. Among eligible learned policies (and sweep values) the cheapest on validation is chosen.
- Every figure is a mean over seeds of the mean over traces, with the half-width of a 95% confidence interval from Student's t with n-1 degrees of freedom (n = number of seeds).
- Improvements are paired by seed: for each seed, 100·(B − L)/B with B and L the baseline's and the learned policy's figure averaged over the traces (the ratio of the means, so that a trace where the baseline figure is near 0 cannot dominate), then averaged over seeds. Differences in points are learned minus baseline, per trace and seed, averaged likewise.
- All policies on a given trace, seed and window run with the same simulator seed (derived from seed, trace and window only), and the simulator draws arrivals, service times, start-up delays and random balancer picks from a stream each: every policy sees the same requests at the same times, each with the same service time (common random numbers), so a comparison paired by seed differs by the policies' decisions alone.
- Tuned HPA chooses its parameter by grid search on the training windows (lowest cost meeting the SLO target); learned policies train on the training windows; the winner is chosen on validation; nothing is tuned on the test windows.
- Cost is in ` + r.costUnitWords() + `; θ_U and θ_O are the SPEC under- and over-provisioning accuracy (percent of demand); accuracy is the share of intervals with demand ≤ supply ≤ max(demand+1, 1.1·demand).
`
	if below {
		method = strings.Replace(method, "the oracle (the floor) aside", "the oracle (a reference, not a floor) aside", 1)
	}
	if len(cfg.Seeds) == 1 {
		method = strings.Replace(method, "(n = number of seeds).", "(n = number of seeds); with one seed, as here, a figure is that seed's, without an interval.", 1)
	}
	if r.oracle() == "" {
		method = strings.Replace(method, "every seed must meet the SLO target on every validation window and make at most 3x the oracle's scaling actions on it;", "every seed must meet the SLO target on every validation window (the bound on scaling actions, at most 3x the oracle's, is not applied: the config has no oracle);", 1)
	}
	fmt.Fprint(w, method)
}

func writeFile(path string, data []byte) error { return atomicfile.Write(path, data) }
