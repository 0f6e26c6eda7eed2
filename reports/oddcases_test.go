package reports

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/experiments"
)

// The reports of configs off the benchmark's path (no test windows, windows without
// traffic, one seed, no oracle, baselines or HPA) say what was and was not measured.

// choiceVal are validation figures (frontierResults' form) under which ppo is the
// cheapest eligible point (80), HPA's point hpa@0.9 (100), the oracle's oracle (90).
var choiceVal = map[string][3][2]float64{
	"hpa":        {{2, 150}, {2, 150}, {2, 150}},
	"hpa@0.5":    {{0.8, 200}, {1.5, 210}, {0.8, 200}},
	"hpa@0.9":    {{4.4, 100}, {4.4, 100}, {4.4, 100}},
	"oracle":     {{3, 90}, {3, 90}, {3, 90}},
	"oracle@0.1": {{0.6, 110}, {0.6, 110}, {0.6, 110}},
	"ppo":        {{1.2, 80}, {1.2, 80}, {1.2, 80}},
}

// choiceRow is the row of family in choice.csv.
func choiceRow(t *testing.T, c Choice, family string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteChoiceCSV(&buf, c); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(l, family+",") {
			return l
		}
	}
	t.Fatalf("choice.csv has no row of %s:\n%s", family, buf.String())
	return ""
}

// tableRows indexes a table's rows by their first cell.
func tableRows(tab Table) map[string][]string {
	rows := map[string][]string{}
	for _, row := range tab.Rows {
		rows[row[0]] = row
	}
	return rows
}

// Without test windows the choice is not checked on them: no test figures, no
// comparison with HPA's point there, "not evaluated" in the table, and empty test
// fields and held in choice.csv.
func TestRecommendWithoutTestWindows(t *testing.T) {
	r := splitResults(t, choiceVal, nil, map[string]float64{"ppo": 10, "oracle": 10})
	r.Config.Eval = []string{experiments.SplitValidation}
	c := r.Recommend()
	if c.Best < 0 || c.Recs[c.Best].Variant != "ppo" {
		t.Fatalf("recommended %+v, want ppo", c.Recs)
	}
	line := r.recommendLine(c)
	if !strings.Contains(line, "**ppo**. Left out of the choice, each of the 2 traces held the target under the point chosen on the rest. The choice is not checked on test windows: none was evaluated (the config's eval lists validation). To deploy it:") {
		t.Errorf("line: %s", line)
	}
	for _, bad := range []string{"Against HPA", "n/a", "Inf", "held."} {
		if strings.Contains(line, bad) {
			t.Errorf("line has %q: %s", bad, line)
		}
	}
	rows := tableRows(r.recommendTable(c))
	if got := rows["ppo"][3:]; got[0] != "not evaluated" || got[1] != "not evaluated" {
		t.Errorf("table row %q, want the test figures not evaluated", rows["ppo"])
	}
	if got, want := choiceRow(t, c, "ppo"), "ppo,ppo,true,5,1,5,80,0,,,,"; got != want {
		t.Errorf("choice.csv row %q, want %q", got, want)
	}
}

// silence marks the cells of split on the traces trs (every trace if none) as
// without requests, as a summary records them: no SLO violations and no
// response-time quantile.
func silence(r *Results, split string, trs ...string) *Results {
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Split == split && (len(trs) == 0 || slices.Contains(trs, c.Trace)) {
			m := map[string]experiments.Num{}
			for k, v := range c.Metrics {
				m[k] = v
			}
			m["slo_violations"], m["p50_seconds"] = 0, experiments.Num(math.NaN())
			c.Metrics = m
		}
	}
	return NewResults(r.Dir, r.Config, r.Cells)
}

// A test window without requests checks nothing: the choice is not said to hold on
// it, and with no test window checked choice.csv leaves held empty.
func TestRecommendOnTestWindowsWithoutRequests(t *testing.T) {
	actions := map[string]float64{"ppo": 10, "oracle": 10}
	r := silence(splitResults(t, choiceVal, choiceVal, actions), experiments.SplitTest)
	c := r.Recommend()
	if c.Best < 0 || c.Recs[c.Best].Variant != "ppo" || !math.IsNaN(c.Recs[c.Best].WorstTest) {
		t.Fatalf("recommended %+v, want ppo without a worst test window", c.Recs)
	}
	line := r.recommendLine(c)
	if !strings.Contains(line, "On the test windows it costs 80 ± 0 replica-hours (0.89x the oracle), but the choice is not checked there: the test windows of traces a and b had no requests (none completed or was dropped under any policy on any seed).") || strings.Contains(line, "the choice held") {
		t.Errorf("line: %s", line)
	}
	if got := tableRows(r.recommendTable(c))["ppo"][4]; got != "no requests" {
		t.Errorf("worst test window %q, want no requests", got)
	}
	if got, want := choiceRow(t, c, "ppo"), "ppo,ppo,true,5,1,5,80,0,80,0,,"; got != want {
		t.Errorf("choice.csv row %q, want %q", got, want)
	}

	// Trace a's test window alone without requests: the worst window is b's (1.7%).
	r = silence(splitResults(t, choiceVal, choiceVal, actions), experiments.SplitTest, "a")
	c = r.Recommend()
	line = r.recommendLine(c)
	if !strings.Contains(line, "and its worst test window has 1.7% violations: the choice held. The test window of trace a had no requests (none completed or was dropped under any policy on any seed): nothing was checked there.") {
		t.Errorf("trace a silent: %s", line)
	}
	if got, want := choiceRow(t, c, "ppo"), "ppo,ppo,true,5,1,5,80,0,80,0,1.7,true"; got != want {
		t.Errorf("trace a silent: choice.csv row %q, want %q", got, want)
	}

	// A validation window without requests is said to check nothing.
	r = silence(splitResults(t, choiceVal, choiceVal, actions), experiments.SplitValidation, "a")
	if line := r.recommendLine(r.Recommend()); !strings.Contains(line, "**ppo**. Left out of the choice, each of the 2 traces held the target under the point chosen on the rest. The validation window of trace a had no requests (none completed or was dropped under any policy on any seed): nothing is checked on it.") {
		t.Errorf("validation of a silent: %s", line)
	}
}

// With one trace the rule checks each half of its validation window: a half
// without requests has no SLO violations figure, so no point is eligible, and the
// report says why rather than only that none is.
func TestRecommendOnValidationHalvesWithoutRequests(t *testing.T) {
	for _, c := range []struct {
		name     string
		arrivals [4]float64 // per timeline row; rows 0-1 are the first half
		want     string
	}{
		{"whole window", [4]float64{0, 0, 0, 0}, "The validation window of trace a had no requests (none completed or was dropped under any policy on any seed), so no point has an SLO violations figure on each half of the window, which the rule requires."},
		{"second half", [4]float64{1000, 1000, 0, 0}, "The second half of the validation window of trace a had no requests (none completed or was dropped under any policy on any seed), so no point has an SLO violations figure on each half of the window, which the rule requires."},
	} {
		cfg := hpaOracleConfig(t, "{name: a, builtin: bursty}")
		var cells []experiments.CellMetrics
		for _, v := range experiments.Variants(cfg) {
			for _, seed := range cfg.Seeds {
				for _, split := range []string{"validation", "test"} {
					m := map[string]experiments.Num{"slo_violations": 1, "cost": 4, "scaling_actions": 0, "p50_seconds": 0.2}
					if split == "validation" && c.arrivals[0] == 0 {
						m["slo_violations"], m["p50_seconds"] = 0, experiments.Num(math.NaN())
					}
					cells = append(cells, experiments.CellMetrics{Trace: "a", Policy: v.Spec.Name, Seed: seed, Split: split, Metrics: m})
				}
			}
		}
		r := NewResults(t.TempDir(), cfg, cells)
		for _, v := range experiments.Variants(cfg) {
			for _, seed := range cfg.Seeds {
				tl := "arrivals,slo_violations,cost,desired\n"
				for _, a := range c.arrivals {
					tl += fmt.Sprintf("%g,%g,1,10\n", a, a/100)
				}
				path := r.cellFile("a", v.Spec.Name, seed, "validation", "timeline.csv")
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(tl), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		ch := r.Recommend()
		if !ch.Halves || ch.Best != -1 {
			t.Fatalf("%s: halves %v, recommended %d; want the halves read and nothing recommended", c.name, ch.Halves, ch.Best)
		}
		line := r.recommendLine(ch)
		if !strings.Contains(line, "no operating point of any family is eligible on the validation windows, the oracle's neither (") || !strings.HasSuffix(line, "so none is recommended. "+c.want) {
			t.Errorf("%s: %s", c.name, line)
		}
	}
}

// "But the oracle" is said only where the oracle does reach the level, or has an
// eligible point.
func TestNoFamilyWordsWhatTheOracleDid(t *testing.T) {
	r := frontierResults(t, frontierFig, nil)
	// The oracle's fewest violations are 0.6% (oracle@0.1): it reaches 1% but not
	// 0.5%; no other family reaches either (hpa@0.5's seed 2 is at 1.5%, ppo at 1.2%).
	r.Config.SLOLevels = []float64{0.5, 1}
	got := r.cheapestLines(r.MatchedSLO(experiments.SplitTest))
	want := []string{
		"At 0.5% SLO violations no family reaches the level on every seed (the oracle neither).",
		"At 1% SLO violations no family but the oracle reaches the level on every seed.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	bad := [3][2]float64{{6, 1}, {6, 1}, {6, 1}}
	for _, c := range []struct {
		oracle [3][2]float64
		want   string
	}{
		{choiceVal["oracle"], "no operating point of any family but the oracle is eligible on the validation windows ("},
		{bad, "no operating point of any family is eligible on the validation windows, the oracle's neither ("},
	} {
		r := splitResults(t, map[string][3][2]float64{"oracle": c.oracle, "hpa": bad}, nil, map[string]float64{"oracle": 10, "hpa": 10})
		if line := r.recommendLine(r.Recommend()); !strings.Contains(line, c.want) {
			t.Errorf("%s\nwant %q", line, c.want)
		}
	}
}

// With one seed there is no confidence interval: a lead is not said to fall within
// one, table titles do not promise one, and one seed is not "1 seeds".
func TestOneSeedHasNoInterval(t *testing.T) {
	if got, want := verdict("ppo", "threshold", "SLO violations", Stat{Mean: 0.0648, CI: math.NaN(), N: 1}, true, " points"), "ppo is ahead of threshold on SLO violations by 0.0648 points (one seed: no confidence interval)."; got != want {
		t.Errorf("verdict %q, want %q", got, want)
	}
	cfg, err := experiments.Parse([]byte(`name: one
seeds: [1]
traces: [{name: a, builtin: bursty}]
policies: [{name: threshold, kind: threshold}, {name: oracle, kind: oracle}, {name: ppo, kind: ppo, train: {steps: 1}}]
`), "one.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := NewResults("", cfg, nil)
	h := &Headline{Winner: "ppo", Qualified: true, Comparisons: []Comparison{{Baseline: "threshold"}}}
	titles := []string{r.matchedTable(nil).Title, r.strictTable().Title, r.recommendTable(Choice{Target: 5}).Title, ZeroShot{}.Table(1).Title}
	for _, tab := range r.Tables(h) {
		if !strings.HasPrefix(tab.Title, "Trace ") {
			titles = append(titles, tab.Title)
		}
	}
	if len(titles) != 6 {
		t.Fatalf("titles %q", titles)
	}
	for _, title := range titles {
		if !strings.Contains(title, "over 1 seed (no confidence interval)") || strings.Contains(title, "1 seeds") || strings.Contains(title, "CI over 1") {
			t.Errorf("title %q", title)
		}
	}
	var md bytes.Buffer
	r.markdown(&md, &Headline{}, nil, nil, "", false, nil, nil, nil)
	if !strings.Contains(md.String(), "(n = number of seeds); with one seed, as here, a figure is that seed's, without an interval.") {
		t.Errorf("the method does not say one seed has no interval:\n%s", md.String())
	}
	if plural(1, "seed") != "1 seed" || plural(0, "seed") != "0 seeds" || plural(5, "seed") != "5 seeds" {
		t.Errorf("plural: %q %q %q", plural(1, "seed"), plural(0, "seed"), plural(5, "seed"))
	}
}

// When no learned policy is eligible the report names what each failed, chooses
// none, and shows the one with the fewest violations for reference only; a policy
// within the SLO target that fails on scaling actions is not said to miss the target.
func TestHeadlineNamesTheFailedCriterion(t *testing.T) {
	r := handResults(t)
	// ppo: 4% on validation (within 5%) but 40 actions against the oracle's 10;
	// dqn: 6% (over 5%), 20 actions.
	acts := map[string]experiments.Num{"ppo": 40, "dqn": 20, "oracle": 10, "threshold": 5, "hpa-tuned": 5}
	for i := range r.Cells {
		r.Cells[i].Metrics["scaling_actions"] = acts[r.Cells[i].Policy]
	}
	r = NewResults("", r.Config, r.Cells)
	h, err := r.ComputeHeadline()
	if err != nil {
		t.Fatal(err)
	}
	if h.Winner != "ppo" || h.Qualified || len(h.Notes) != 1 {
		t.Fatalf("winner %q qualified %v notes %q", h.Winner, h.Qualified, h.Notes)
	}
	if want := "No learned policy is eligible (every seed within 5% violations and at most 3x the oracle's scaling actions on every validation window): ppo fails on scaling actions, dqn on SLO violations. None is chosen; ppo, the one with the fewest violations on validation, is compared below for reference only."; h.Notes[0] != want {
		t.Errorf("note %q\nwant %q", h.Notes[0], want)
	}
	tabs := r.Tables(h)
	if got := tableRows(tabs[0])["ppo"][5]; got != "no: for reference only" {
		t.Errorf("ppo chosen %q", got)
	}
	if !strings.HasPrefix(tabs[1].Title, "For reference only, no learned policy being eligible: ppo against the baselines") {
		t.Errorf("comparison title %q", tabs[1].Title)
	}
	var md bytes.Buffer
	r.markdown(&md, h, nil, nil, "", false, nil, nil, nil)
	for _, bad := range []string{"Chosen: **ppo**", "met the SLO target", "| yes |"} {
		if strings.Contains(md.String(), bad) {
			t.Errorf("report has %q:\n%s", bad, md.String())
		}
	}
	if !strings.Contains(md.String(), "The learned policy is chosen on the validation windows only, the cheapest of the eligible ones; the test windows play no part in the choice.\n\n> No learned policy is eligible") {
		t.Errorf("report:\n%s", md.String())
	}
}

// A saving against HPA's point reads as less, more or the same; large paired
// figures are written in digits.
func TestCostWordsAndLargeVerdicts(t *testing.T) {
	for _, c := range []struct {
		d    Stat
		want string
	}{
		{Stat{Mean: 15.2, CI: 48, N: 2}, "15.2 ± 48% less"},
		{Stat{Mean: -0.648, CI: 36, N: 2}, "0.648 ± 36% more"},
		{Stat{Mean: -2.5, CI: math.NaN(), N: 1}, "2.5% more"},
		{Stat{Mean: 0, CI: 0, N: 2}, "the same"},
		{Stat{Mean: 0, CI: 1.5, N: 2}, "the same on the mean (95% CI ±1.5%)"},
	} {
		if got := costWords(c.d); got != c.want {
			t.Errorf("costWords(%+v) = %q, want %q", c.d, got, c.want)
		}
	}
	// In the line: ppo at 110 on the test windows against hpa@0.9 at 104 costs
	// 100*(110-104)/104 = 5.77% more on every seed; at 104, the same.
	for ppo, want := range map[float64]string{110: "it costs 5.77 ± 0% more, paired by seed.", 104: "it costs the same, paired by seed."} {
		test := map[string][3][2]float64{}
		for k, v := range choiceVal {
			test[k] = v
		}
		test["hpa@0.9"] = [3][2]float64{{4.4, 104}, {4.4, 104}, {4.4, 104}}
		test["ppo"] = [3][2]float64{{1.2, ppo}, {1.2, ppo}, {1.2, ppo}}
		r := splitResults(t, choiceVal, test, map[string]float64{"ppo": 10, "oracle": 10})
		if line := r.recommendLine(r.Recommend()); !strings.Contains(line, "Against HPA's point chosen by the same rule (hpa@0.9, 104 ± 0 on the test windows) "+want) {
			t.Errorf("ppo at %v: %s\nwant %q", ppo, line, want)
		}
	}
	for _, c := range []struct {
		s    Stat
		want string
	}{
		{Stat{Mean: -8984.2, CI: 100, N: 2}, "ppo does not beat threshold on cost: 8,984% worse."},
		{Stat{Mean: 1234.5, CI: 2345.6, N: 2}, "ppo is ahead of threshold on cost by 1,235%, but the 95% CI (±2,346) includes zero: not a clear win."},
		{Stat{Mean: 18.2, CI: 0.339, N: 5}, "ppo beats threshold on cost by 18.2% (95% CI ±0.339)."},
	} {
		if got := verdict("ppo", "threshold", "cost", c.s, true, "%"); got != c.want {
			t.Errorf("verdict %q, want %q", got, c.want)
		}
	}
}

// The oracle is one operating point (or a few), not the cheapest possible: where a
// policy costs less than it, the report does not call it the floor.
func TestOracleIsAReferenceWhereOthersCostLess(t *testing.T) {
	r := frontierResults(t, frontierFig, nil)
	c := r.Recommend()
	if r.belowOracle(r.MatchedSLO(experiments.SplitTest), c) {
		t.Fatal("frontierFig: a cost below the oracle's")
	}
	fig := map[string][3][2]float64{}
	for k, v := range frontierFig {
		fig[k] = v
	}
	fig["ppo"] = [3][2]float64{{1.2, 80}, {1.2, 80}, {1.2, 80}} // 80 against the oracle's 90 at 5%
	r = frontierResults(t, fig, nil)
	ms := r.MatchedSLO(experiments.SplitTest)
	if !r.belowOracle(ms, c) {
		t.Fatal("ppo at 80: no cost below the oracle's")
	}
	var md bytes.Buffer
	r.markdown(&md, &Headline{}, ms, nil, "", true, nil, nil, nil)
	for _, want := range []string{"The oracle, which knows the future, is a reference at its configured operating points, not a floor: another policy can cost less than it (a ratio below 1x the oracle); a family that does not reach", "the oracle (a reference, not a floor) aside"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md.String(), "floor;") || strings.Contains(md.String(), "(the floor)") {
		t.Errorf("report calls the oracle the floor:\n%s", md.String())
	}
}

// Comparisons that cannot be made are said not to be, with why: no baselines, no
// HPA, no oracle to bound scaling actions by.
func TestReportSaysWhatItCannotCompare(t *testing.T) {
	_, md := runReport(t, `name: nobaselines
traces: [{name: aa, builtin: bursty}, {name: bbb, builtin: step}]
policies: [{name: hpa, kind: hpa}, {name: ppo, kind: ppo, train: {steps: 10}}, {name: oracle, kind: oracle}]
`)
	if !bytes.Contains(md, []byte("Chosen: **ppo**. There is no baseline to compare it with on the test windows: the config names none (the key baselines) and has no policy of kind threshold or hpa-tuned, the default ones.\n")) {
		t.Errorf("no baselines:\n%s", md)
	}

	_, md = runReport(t, `name: nohpa
traces: [{name: aa, builtin: bursty}, {name: bbb, builtin: step}]
policies: [{name: threshold, kind: threshold}, {name: oracle, kind: oracle}]
`)
	if !bytes.Contains(md, []byte("the choice held. There is no HPA (a policy of kind hpa) in the config to compare it with. To deploy it:")) {
		t.Errorf("no HPA:\n%s", md)
	}

	_, md = runReport(t, `name: nooracle
traces: [{name: aa, builtin: bursty}, {name: bbb, builtin: step}]
policies: [{name: threshold, kind: threshold}, {name: hpa, kind: hpa}, {name: ppo, kind: ppo, train: {steps: 10}}]
`)
	for _, want := range []string{
		"every validation window of every seed within the target; the bound on scaling actions, at most 3x the oracle's, is not applied: the config has no oracle): **",
		"(eligible: every seed within 5% violations on every validation window; the bound on scaling actions, at most 3x the oracle's, is not applied: the config has no oracle)",
		"every seed must meet the SLO target on every validation window (the bound on scaling actions, at most 3x the oracle's, is not applied: the config has no oracle);",
		"(% violations; ✗: over the target)",
	} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("no oracle: report lacks %q", want)
		}
	}
	if bytes.Contains(md, []byte("at most 3x the oracle's scaling actions")) {
		t.Errorf("no oracle: the report bounds actions by the oracle's:\n%s", md)
	}

	// HPA in the config without an eligible point: said so.
	bad := [3][2]float64{{6, 1}, {6, 1}, {6, 1}}
	r := splitResults(t, map[string][3][2]float64{"hpa": bad, "oracle": choiceVal["oracle"], "ppo": choiceVal["ppo"]}, choiceVal, map[string]float64{"ppo": 10, "oracle": 10, "hpa": 10})
	// As configured, hpa has 6.5% on trace b's validation window, costs 150 on the
	// test windows (worst window 2.5%), and ppo at 80 costs 100*(150-80)/150 less.
	if line := r.recommendLine(r.Recommend()); !strings.Contains(line, "the choice held. HPA (hpa) has no eligible point to compare it with: as configured its worst validation window has 6.5% violations; on the test windows it costs 150 ± 0, worst window 2.5%, and the choice costs 46.7 ± 0% less, paired by seed. To deploy it:") {
		t.Errorf("HPA without a point: %s", line)
	}
}
