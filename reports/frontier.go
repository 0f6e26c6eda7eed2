package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/intelliscale/intelliscale/experiments"
)

// A family is one configured policy with its sweep variants (experiments.Variants):
// the points of its cost-against-SLO frontier.

// FrontierPoint is one operating point of a family: SLO violations (percent) and
// cost, each the mean over the traces of one seed's windows.
type FrontierPoint struct {
	Variant          string
	Violations, Cost float64
	ScalingActions   float64
}

// Envelope returns the lower monotone envelope of pts: the points no other point
// dominates (as few or fewer violations at a lower cost), sorted by violations
// ascending, so that cost strictly decreases along it. Points with undefined figures
// are left out. Ties in violations keep the cheaper point.
func Envelope(pts []FrontierPoint) []FrontierPoint {
	var ok []FrontierPoint
	for _, p := range pts {
		if !math.IsNaN(p.Violations) && !math.IsNaN(p.Cost) && !math.IsInf(p.Violations, 0) && !math.IsInf(p.Cost, 0) {
			ok = append(ok, p)
		}
	}
	sort.SliceStable(ok, func(i, j int) bool {
		if ok[i].Violations != ok[j].Violations {
			return ok[i].Violations < ok[j].Violations
		}
		return ok[i].Cost < ok[j].Cost
	})
	var env []FrontierPoint
	for _, p := range ok {
		if len(env) == 0 || p.Cost < env[len(env)-1].Cost {
			env = append(env, p)
		}
	}
	return env
}

// CostAt is the cost of a family at SLO level (percent of requests) on its envelope
// env (Envelope's output): the least cost at which the family's frontier keeps
// violations at or below level. Between two envelope points it is the straight line
// joining them (piecewise-linear interpolation); at or beyond the envelope's last
// (cheapest) point it is that point's cost, which already meets the level. Below the
// envelope's first point the family does not reach the level: ok is false (no
// extrapolation).
func CostAt(env []FrontierPoint, level float64) (cost float64, ok bool) {
	if len(env) == 0 || level < env[0].Violations {
		return math.NaN(), false
	}
	for i := 1; i < len(env); i++ {
		a, b := env[i-1], env[i]
		if level < b.Violations {
			f := (level - a.Violations) / (b.Violations - a.Violations)
			return a.Cost + f*(b.Cost-a.Cost), true
		}
	}
	return env[len(env)-1].Cost, true
}

// Families lists the configured policies (families) with their variants.
func (r *Results) Families() [][]experiments.Variant {
	var out [][]experiments.Variant
	idx := map[string]int{}
	for _, v := range experiments.Variants(r.Config) {
		i, ok := idx[v.Family]
		if !ok {
			i = len(out)
			idx[v.Family] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], v)
	}
	return out
}

// traceNames are the experiment's traces in config order.
func (r *Results) traceNames() []string {
	var out []string
	for _, t := range r.Config.Traces {
		out = append(out, t.Name)
	}
	return out
}

// seedPoints returns a family's points for one seed on split: each variant's SLO
// violations, cost and scaling actions averaged over the traces trs.
func (r *Results) seedPoints(fam []experiments.Variant, split string, seed uint64, trs []string) []FrontierPoint {
	var pts []FrontierPoint
	for _, v := range fam {
		mean := func(metric string) float64 {
			var xs []float64
			for _, t := range trs {
				xs = append(xs, r.value(v.Spec.Name, split, seed, t, metric))
			}
			if !allFinite(xs) {
				return math.NaN() // a trace missing would bias the mean
			}
			return meanFinite(xs)
		}
		pts = append(pts, FrontierPoint{Variant: v.Spec.Name, Violations: mean("slo_violations"), Cost: mean("cost"), ScalingActions: mean("scaling_actions")})
	}
	return pts
}

func allFinite(xs []float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return len(xs) > 0
}

// Matched is a family's cost at one SLO level on the test windows.
type Matched struct {
	Policy string
	Level  float64 // percent of requests
	// Cost is the mean and 95% CI over the seeds of the per-seed interpolated cost;
	// undefined unless every seed reaches the level.
	Cost Stat
	// Worst is the highest per-seed cost and WorstSeed its seed.
	Worst     float64
	WorstSeed uint64
	// Reached counts the seeds whose frontier reaches the level, of Seeds.
	Reached, Seeds int
	// VsOracle is Cost.Mean over the oracle family's mean cost at the level (NaN
	// without an oracle or when either is undefined).
	VsOracle float64
}

// OK reports whether every seed reaches the level.
func (m Matched) OK() bool { return m.Seeds > 0 && m.Reached == m.Seeds }

// SLOLevels are the levels the matched-SLO table is read at, percent.
func (r *Results) SLOLevels() []float64 { return r.Config.MatchedLevels() }

// MatchedSLO interpolates every family's cost at every SLO level on split, per seed
// (CostAt on that seed's Envelope), then takes the mean, CI and worst over seeds.
func (r *Results) MatchedSLO(split string) []Matched {
	var out []Matched
	oracle := map[float64]float64{}
	for _, fam := range r.Families() {
		for _, m := range r.familyMatched(fam, split, r.traceNames()) {
			if fam[0].Spec.Kind == experiments.KindOracle && m.OK() {
				if _, seen := oracle[m.Level]; !seen {
					oracle[m.Level] = m.Cost.Mean
				}
			}
			out = append(out, m)
		}
	}
	for i := range out {
		if o, ok := oracle[out[i].Level]; ok && out[i].OK() && o > 0 {
			out[i].VsOracle = out[i].Cost.Mean / o
		}
	}
	return out
}

// familyMatched is one family's cost at every SLO level on split, its frontier
// points the means over the traces trs (VsOracle left NaN).
func (r *Results) familyMatched(fam []experiments.Variant, split string, trs []string) []Matched {
	envs := make([][]FrontierPoint, len(r.Config.Seeds))
	for i, s := range r.Config.Seeds {
		envs[i] = Envelope(r.seedPoints(fam, split, s, trs))
	}
	var out []Matched
	for _, L := range r.SLOLevels() {
		m := Matched{Policy: fam[0].Family, Level: L, Seeds: len(r.Config.Seeds), Worst: math.NaN(), VsOracle: math.NaN()}
		var costs []float64
		for i, s := range r.Config.Seeds {
			c, ok := CostAt(envs[i], L)
			if !ok {
				continue
			}
			m.Reached++
			costs = append(costs, c)
			if math.IsNaN(m.Worst) || c > m.Worst {
				m.Worst, m.WorstSeed = c, s
			}
		}
		m.Cost = Stat{Mean: math.NaN(), CI: math.NaN()}
		if m.OK() {
			m.Cost = MeanCI(costs)
		}
		out = append(out, m)
	}
	return out
}

// Cheapest returns, for each SLO level, the family other than the oracle with the
// lowest mean matched cost among those reaching the level on every seed ("" when
// none does).
func Cheapest(ms []Matched, kinds map[string]string) map[float64]string {
	best := map[float64]string{}
	cost := map[float64]float64{}
	for _, m := range ms {
		if !m.OK() || kinds[m.Policy] == experiments.KindOracle {
			continue
		}
		if c, ok := cost[m.Level]; !ok || m.Cost.Mean < c {
			best[m.Level], cost[m.Level] = m.Policy, m.Cost.Mean
		}
	}
	return best
}

// WriteFrontierCSV writes frontier.csv: one row per family variant, trace, seed and
// evaluation window with its SLO violations, cost and scaling actions.
func (r *Results) WriteFrontierCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"policy", "variant", "knob", "value", "trace", "seed", "window", "slo_violations", "cost", "scaling_actions"})
	for _, fam := range r.Families() {
		for _, v := range fam {
			for _, split := range r.Config.Eval {
				for _, t := range r.Config.Traces {
					for _, s := range r.Config.Seeds {
						viol := r.value(v.Spec.Name, split, s, t.Name, "slo_violations")
						if math.IsNaN(viol) {
							continue
						}
						cw.Write([]string{v.Family, v.Spec.Name, v.Param, experiments.FormatFloat(v.Value), t.Name, strconv.FormatUint(s, 10), split,
							experiments.FormatFloat(viol), experiments.FormatFloat(r.value(v.Spec.Name, split, s, t.Name, "cost")),
							experiments.FormatFloat(r.value(v.Spec.Name, split, s, t.Name, "scaling_actions"))})
					}
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteMatchedCSV writes matched_slo.csv: each family's cost at each SLO level on the
// test windows (empty cost when not every seed reaches it).
func WriteMatchedCSV(w io.Writer, ms []Matched) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"policy", "slo_level", "cost_mean", "cost_ci", "seeds", "seeds_reached", "worst_seed_cost", "worst_seed", "cost_vs_oracle"})
	f := func(x float64) string {
		if math.IsNaN(x) {
			return ""
		}
		return experiments.FormatFloat(x)
	}
	for _, m := range ms {
		ws := ""
		if !math.IsNaN(m.Worst) {
			ws = strconv.FormatUint(m.WorstSeed, 10)
		}
		cw.Write([]string{m.Policy, experiments.FormatFloat(m.Level), f(m.Cost.Mean), f(m.Cost.CI), strconv.Itoa(m.Seeds), strconv.Itoa(m.Reached), f(m.Worst), ws, f(m.VsOracle)})
	}
	cw.Flush()
	return cw.Error()
}

// MatchedSplit is the split the matched-SLO figures are read on: the test windows,
// or the validation windows when a config evaluates those alone (a scratch copy
// that chooses settings without reading a test window).
func (r *Results) MatchedSplit() string {
	if !r.evaluated(experiments.SplitTest) && r.evaluated(experiments.SplitValidation) {
		return experiments.SplitValidation
	}
	return experiments.SplitTest
}

// matchedTable renders the matched-SLO figures: one row per family, one column per level.
func (r *Results) matchedTable(ms []Matched) Table {
	levels := r.SLOLevels()
	split := r.MatchedSplit()
	t := Table{Title: fmt.Sprintf("Cost at matched SLO, %s windows (%s, mean over traces; %s, worst seed in brackets)", split, r.costUnit(), overSeeds(len(r.Config.Seeds))),
		Head: []string{"policy"}}
	for _, L := range levels {
		t.Head = append(t.Head, fmt.Sprintf("at %.3g%% violations", L))
	}
	t.Head = append(t.Head, "scaling actions at the cheapest point")
	kinds := r.kinds()
	best := Cheapest(ms, kinds)
	byPol := map[string]map[float64]Matched{}
	for _, m := range ms {
		if byPol[m.Policy] == nil {
			byPol[m.Policy] = map[float64]Matched{}
		}
		byPol[m.Policy][m.Level] = m
	}
	tested := r.evaluated(split)
	for _, fam := range r.Families() {
		name := fam[0].Family
		row := []string{name}
		if !tested {
			// Nothing was measured: "not reached" would say a level was missed.
			for range levels {
				row = append(row, "not evaluated")
			}
			t.Rows = append(t.Rows, append(row, "not evaluated"))
			continue
		}
		for _, L := range levels {
			m := byPol[name][L]
			cell := ""
			switch {
			case m.OK():
				cell = fmt.Sprintf("%s (%s)", FormatStat(m.Cost), FormatSig(m.Worst, 3))
				if best[L] == name {
					cell = "**" + cell + "** cheapest"
				}
				if !math.IsNaN(m.VsOracle) && kinds[name] != experiments.KindOracle {
					cell += fmt.Sprintf(", %.2fx oracle", m.VsOracle)
				}
			case m.Reached > 0:
				cell = fmt.Sprintf("not reached (%d of %s)", m.Reached, plural(m.Seeds, "seed"))
			default:
				cell = "not reached"
			}
			row = append(row, cell)
		}
		row = append(row, r.cheapestActions(fam))
		t.Rows = append(t.Rows, row)
	}
	return t
}

// cheapestActions is the scaling actions (mean over seeds, worst seed) of the family's
// variant with the lowest mean cost (on MatchedSplit's windows) among those meeting
// the SLO target on the mean, as a reading of how much a family flaps where it is
// cheap.
func (r *Results) cheapestActions(fam []experiments.Variant) string {
	budget := 100 * (1 - sloTarget(r.Config))
	split := r.MatchedSplit()
	best, bc := "", math.Inf(1)
	for _, v := range fam {
		c := r.Figure(v.Spec.Name, split, "cost").Mean
		if r.Figure(v.Spec.Name, split, "slo_violations").Mean <= budget && c < bc {
			best, bc = v.Spec.Name, c
		}
	}
	if best == "" {
		return "n/a (no point meets the target)"
	}
	s := r.Figure(best, split, "scaling_actions")
	w, _ := r.WorstSeed(best, split, "scaling_actions")
	return fmt.Sprintf("%s (%s) [%s]", FormatWhole(s.Mean), FormatWhole(w), best)
}

// WorstSeed is the highest per-seed value (mean over traces) of a metric and its seed.
func (r *Results) WorstSeed(policy, split, metric string) (float64, uint64) {
	per := r.PerSeed(func(t string, s uint64) float64 { return r.value(policy, split, s, t, metric) })
	w, ws := math.NaN(), uint64(0)
	for i, x := range per {
		if !math.IsNaN(x) && (math.IsNaN(w) || x > w) {
			w, ws = x, r.Config.Seeds[i]
		}
	}
	return w, ws
}

// cheapestLines say in words who is cheapest at each level.
func (r *Results) cheapestLines(ms []Matched) []string {
	split := r.MatchedSplit()
	if !r.evaluated(split) {
		return []string{fmt.Sprintf("No test windows were evaluated (the config's eval lists %s): the cost at matched SLO is read on them, so add test to eval.", strings.Join(r.Config.Eval, ", "))}
	}
	var out []string
	if split != experiments.SplitTest {
		out = append(out, fmt.Sprintf("No test windows were evaluated (the config's eval lists %s): the cost at matched SLO is read on the %s windows, where choices are made, so it measures no traffic the choices did not see; add test to eval for that.", strings.Join(r.Config.Eval, ", "), split))
	}
	kinds := r.kinds()
	best := Cheapest(ms, kinds)
	// oracleAt: the levels the oracle family reaches on every seed.
	oracleAt := map[float64]bool{}
	for _, m := range ms {
		if kinds[m.Policy] == experiments.KindOracle && m.OK() {
			oracleAt[m.Level] = true
		}
	}
	for _, L := range r.SLOLevels() {
		name, ok := best[L]
		if !ok {
			none := "no family reaches the level on every seed."
			switch {
			case oracleAt[L]:
				none = "no family but the oracle reaches the level on every seed."
			case r.hasOracle():
				none = "no family reaches the level on every seed (the oracle neither)."
			}
			out = append(out, fmt.Sprintf("At %.3g%% SLO violations %s", L, none))
			continue
		}
		for _, m := range ms {
			if m.Policy == name && m.Level == L {
				line := fmt.Sprintf("At %.3g%% SLO violations the cheapest is **%s**: %s %s (worst seed %s, seed %d)", L, name, FormatStat(m.Cost), r.costUnit(), FormatSig(m.Worst, 3), m.WorstSeed)
				if !math.IsNaN(m.VsOracle) {
					line += fmt.Sprintf(", %.2fx the oracle", m.VsOracle)
				}
				out = append(out, line+".")
			}
		}
	}
	// A test window without requests counts 0% violations under every policy: the
	// levels are then read on the other traces' figures diluted by it, or (every
	// window idle) measure nothing.
	var idle []string
	for _, name := range r.traceNames() {
		if r.noRequests(split, name) {
			idle = append(idle, name)
		}
	}
	switch {
	case len(idle) > 0 && len(idle) == len(r.traceNames()):
		out = append(out, fmt.Sprintf("But %s %s: every policy counts 0%% violations there, so the levels above measure nothing about the SLO; choose %s windows with traffic.", windowsWords(split, idle), noRequestsWords, split))
	case len(idle) > 0:
		out = append(out, fmt.Sprintf("But %s %s: it counts as 0%% violations in the mean over traces the levels are read on, which flatters every policy; read the per-trace compliance table, or choose %s windows with traffic.", windowsWords(split, idle), noRequestsWords, split))
	}
	return out
}

// complianceTable: SLO violations of every configured policy (and a chosen sweep
// variant) on each trace's test window, mean over seeds with the worst seed, flagged
// when any seed breaks the SLO target there.
func (r *Results) complianceTable(h *Headline) Table {
	budget := 100 * (1 - sloTarget(r.Config))
	t := Table{Title: fmt.Sprintf("SLO compliance per trace, test windows (%% violations, mean over seeds, worst seed in brackets; ✗: a seed breaks the %.3g%% target)", budget),
		Head: []string{"policy"}}
	for _, tr := range r.Config.Traces {
		t.Head = append(t.Head, tr.Name)
	}
	names := []string{}
	for _, p := range r.Config.Policies {
		names = append(names, p.Name)
	}
	if h != nil && h.Winner != "" && experiments.FamilyOf(h.Winner) != h.Winner {
		names = append(names, h.Winner)
	}
	idle := map[string]bool{}
	for _, tr := range r.Config.Traces {
		idle[tr.Name] = r.noRequests(experiments.SplitTest, tr.Name)
	}
	for _, name := range names {
		row := []string{name}
		for _, tr := range r.Config.Traces {
			if !r.evaluated(experiments.SplitTest) {
				row = append(row, "not evaluated")
				continue
			}
			if idle[tr.Name] {
				// 0% of no requests is not compliance.
				row = append(row, "no requests")
				continue
			}
			st := r.TraceFigure(name, experiments.SplitTest, tr.Name, "slo_violations")
			if math.IsNaN(st.Mean) {
				row = append(row, "n/a")
				continue
			}
			worst, over := math.Inf(-1), 0
			for _, s := range r.Config.Seeds {
				v := r.value(name, experiments.SplitTest, s, tr.Name, "slo_violations")
				worst = math.Max(worst, v)
				if v > budget {
					over++
				}
			}
			cell := fmt.Sprintf("%.3g (%.3g)", st.Mean, worst)
			if over > 0 {
				cell += fmt.Sprintf(" ✗ %d/%d", over, len(r.Config.Seeds))
			}
			row = append(row, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
