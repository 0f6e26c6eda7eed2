package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/experiments"
)

func fp(v, c float64) FrontierPoint { return FrontierPoint{Violations: v, Cost: c} }

func TestEnvelopeAndCostAtHandComputed(t *testing.T) {
	// Points (violations %, cost): (0.5, 200), (1.5, 150), (1, 190) dominated? no:
	// sorted (0.5,200) (1,190) (1.5,150) (3,160: dominated by (1.5,150)) (4,100)
	// (4,120: same violations, dearer) (NaN: dropped).
	pts := []FrontierPoint{fp(1.5, 150), fp(3, 160), fp(0.5, 200), fp(4, 120), fp(1, 190), fp(4, 100), fp(math.NaN(), 1)}
	env := Envelope(pts)
	want := []FrontierPoint{fp(0.5, 200), fp(1, 190), fp(1.5, 150), fp(4, 100)}
	if len(env) != len(want) {
		t.Fatalf("envelope %v, want %v", env, want)
	}
	for i := range want {
		if env[i].Violations != want[i].Violations || env[i].Cost != want[i].Cost {
			t.Fatalf("envelope %v, want %v", env, want)
		}
	}
	cases := []struct {
		level, cost float64
		ok          bool
	}{
		{0.4, math.NaN(), false}, // below the fewest violations: not reached, no extrapolation
		{0.5, 200, true},         // on a point
		{0.75, 195, true},        // halfway from (0.5, 200) to (1, 190)
		{1.2, 174, true},         // 190 + 0.4*(150-190)
		{2, 140, true},           // 150 + (0.5/2.5)*(100-150)
		{4, 100, true},
		{5, 100, true}, // beyond the cheapest point: its cost (it meets 5%)
	}
	for _, c := range cases {
		got, ok := CostAt(env, c.level)
		if ok != c.ok || (ok && math.Abs(got-c.cost) > 1e-9) {
			t.Errorf("CostAt(%v) = %v, %v; want %v, %v", c.level, got, ok, c.cost, c.ok)
		}
	}
	if _, ok := CostAt(nil, 5); ok {
		t.Errorf("empty frontier reaches a level")
	}
}

// frontierResults builds an experiment with an hpa family (base + two sweep values),
// an oracle family and a learned policy on two traces and three seeds, figures set by
// hand per (variant, seed); the two traces differ by a factor that cancels in means.
func frontierResults(t *testing.T, fig map[string][3][2]float64, actions map[string]float64) *Results {
	return splitResults(t, fig, fig, actions)
}

// splitResults is frontierResults with the validation windows' figures (val) apart
// from the test windows' (test).
func splitResults(t *testing.T, val, test map[string][3][2]float64, actions map[string]float64) *Results {
	cfg, err := experiments.Parse([]byte(`name: f
seeds: [1, 2, 3]
traces: [{name: a, builtin: bursty}, {name: b, builtin: step}]
policies:
  - {name: hpa, kind: hpa, params: {target_utilization: 0.6}, sweep: {param: target_utilization, values: [0.5, 0.9]}}
  - {name: oracle, kind: oracle, sweep: {param: headroom, values: [0.1]}}
  - {name: ppo, kind: ppo, train: {steps: 1}}
`), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cells []experiments.CellMetrics
	for split, fig := range map[string]map[string][3][2]float64{"validation": val, "test": test} {
		for name, per := range fig {
			for i, seed := range cfg.Seeds {
				for _, tr := range []string{"a", "b"} {
					// Trace a: violations v-0.5, cost c-10; trace b: v+0.5, c+10. Means: (v, c).
					d := -1.0
					if tr == "b" {
						d = 1
					}
					cells = append(cells, experiments.CellMetrics{Trace: tr, Policy: name, Seed: seed, Split: split,
						Metrics: map[string]experiments.Num{"slo_violations": experiments.Num(per[i][0] + d*0.5), "cost": experiments.Num(per[i][1] + d*10),
							"scaling_actions": experiments.Num(actions[name] + d)}})
				}
			}
		}
	}
	return NewResults("", cfg, cells)
}

// frontierFig: per variant, seed 1..3's (violations, cost), means over the traces.
var frontierFig = map[string][3][2]float64{
	"hpa":        {{2, 150}, {2, 150}, {2, 150}},
	"hpa@0.5":    {{0.8, 200}, {1.5, 210}, {0.8, 200}},
	"hpa@0.9":    {{6, 100}, {6, 100}, {6, 100}},
	"oracle":     {{3, 90}, {3, 90}, {3, 90}},
	"oracle@0.1": {{0.6, 110}, {0.6, 110}, {0.6, 110}},
	"ppo":        {{1.2, 120}, {1.2, 130}, {1.2, 140}},
}

func TestMatchedSLOHandComputed(t *testing.T) {
	r := frontierResults(t, frontierFig, map[string]float64{"ppo": 10, "oracle": 5})
	ms := r.MatchedSLO("test")
	get := func(p string, L float64) Matched {
		for _, m := range ms {
			if m.Policy == p && m.Level == L {
				return m
			}
		}
		t.Fatalf("no %s at %v", p, L)
		return Matched{}
	}
	// hpa at 1%: seed 2's fewest violations are 1.5: not reached on every seed.
	if m := get("hpa", 1); m.OK() || m.Reached != 2 || !math.IsNaN(m.Cost.Mean) {
		t.Errorf("hpa at 1%%: %+v", m)
	}
	// hpa at 2%: seeds 1, 3 on the point (2, 150); seed 2 also 150. At 5%: between
	// (2, 150) and (6, 100): 150 - 3/4*50 = 112.5 on every seed.
	if m := get("hpa", 2); !m.OK() || m.Cost.Mean != 150 || m.Cost.CI != 0 {
		t.Errorf("hpa at 2%%: %+v", m)
	}
	if m := get("hpa", 5); math.Abs(m.Cost.Mean-112.5) > 1e-9 {
		t.Errorf("hpa at 5%%: %+v", m)
	}
	// oracle at 2%: between (0.6, 110) and (3, 90): 110 - 1.4/2.4*20.
	o2 := 110 - 1.4/2.4*20
	if m := get("oracle", 2); math.Abs(m.Cost.Mean-o2) > 1e-9 {
		t.Errorf("oracle at 2%%: %+v, want %v", m, o2)
	}
	// ppo at 2%: its single point per seed: 120, 130, 140 -> mean 130, worst 140 (seed 3).
	m := get("ppo", 2)
	if m.Cost.Mean != 130 || m.Worst != 140 || m.WorstSeed != 3 || math.Abs(m.VsOracle-130/o2) > 1e-9 {
		t.Errorf("ppo at 2%%: %+v", m)
	}
	if want := MeanCI([]float64{120, 130, 140}); math.Abs(m.Cost.CI-want.CI) > 1e-9 {
		t.Errorf("ppo CI %v, want %v", m.Cost.CI, want.CI)
	}
	// ppo at 1%: not reached on any seed.
	if m := get("ppo", 1); m.Reached != 0 {
		t.Errorf("ppo at 1%%: %+v", m)
	}
	kinds := map[string]string{"hpa": "hpa", "oracle": "oracle", "ppo": "ppo"}
	best := Cheapest(ms, kinds)
	// At 2%: hpa 150 vs ppo 130: ppo. At 5%: hpa 112.5 vs ppo 130: hpa. At 1%: none
	// but the oracle (which is never "cheapest").
	if best[2] != "ppo" || best[5] != "hpa" || best[1] != "" {
		t.Errorf("cheapest %v", best)
	}
	var fc, mc bytes.Buffer
	if err := r.WriteFrontierCSV(&fc); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(fc.String()), "\n")
	// 6 variants x 2 windows x 2 traces x 3 seeds rows + header.
	if len(lines) != 1+6*2*2*3 || lines[0] != "policy,variant,knob,value,trace,seed,window,slo_violations,cost,scaling_actions" {
		t.Fatalf("frontier.csv: %d lines, header %q", len(lines), lines[0])
	}
	if !strings.Contains(fc.String(), "hpa,hpa@0.5,target_utilization,0.5,a,2,test,1,200,") {
		t.Errorf("frontier.csv lacks hpa@0.5 seed 2 on trace a:\n%s", fc.String())
	}
	if err := WriteMatchedCSV(&mc, ms); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mc.String(), "ppo,2,130,") || !strings.Contains(mc.String(), "hpa,1,,,3,2,") {
		t.Errorf("matched_slo.csv:\n%s", mc.String())
	}
}

func TestEligibilityCases(t *testing.T) {
	base := map[string][3][2]float64{"oracle": {{1, 90}, {1, 90}, {1, 90}}, "hpa": {{1, 1}, {1, 1}, {1, 1}}}
	cases := []struct {
		name    string
		ppo     [3][2]float64
		actions float64 // ppo's mean actions per window; the oracle's is 10 (9 and 11 per trace)
		want    []string
	}{
		{"eligible", [3][2]float64{{4, 1}, {4, 1}, {4, 1}}, 25, nil}, // 24 <= 27 on a, 26 <= 33 on b
		// Seed 2 averages 4% but its trace b window has 5.5%: one window is enough to fail.
		{"one window over", [3][2]float64{{4, 1}, {5, 1}, {4, 1}}, 10, []string{"seed 2, b: 5.5% SLO violations > 5%"}},
		// 3x the oracle's is 27 on trace a, 33 on b: 28 fails on a, 30 passes on b.
		{"flapping", [3][2]float64{{1, 1}, {1, 1}, {1, 1}}, 29, []string{"seed 1, a: 28 scaling actions > 3x the oracle's 9", "seed 2, a: 28", "seed 3, a: 28"}},
	}
	for _, c := range cases {
		fig := map[string][3][2]float64{"ppo": c.ppo}
		for k, v := range base {
			fig[k] = v
		}
		r := frontierResults(t, fig, map[string]float64{"ppo": c.actions, "oracle": 10})
		got := r.Eligibility("ppo", 5)
		if len(got) != len(c.want) {
			t.Errorf("%s: failures %q, want %q", c.name, got, c.want)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], c.want[i]) {
				t.Errorf("%s: failure %q, want %q", c.name, got[i], c.want[i])
			}
		}
	}
	// A seed without a validation result is not eligible.
	r := frontierResults(t, map[string][3][2]float64{"oracle": base["oracle"]}, nil)
	if got := r.Eligibility("ppo", 5); len(got) != 6 || !strings.Contains(got[0], "no validation result") {
		t.Errorf("missing results: %q", got)
	}
	if got := r.EligibilitySummary("ppo", 5); len(got) != 3 || got[0] != "seed 1: no result on a, b" {
		t.Errorf("missing results, summary: %q", got)
	}
}

// The summary has one line per failing seed, with every failing window counted.
func TestEligibilitySummary(t *testing.T) {
	fig := map[string][3][2]float64{"oracle": {{1, 90}, {1, 90}, {1, 90}},
		// Seed 1 passes; seed 2 is over on trace b only (5.5%); seed 3 on both (6.5, 7.5).
		"ppo": {{4, 1}, {5, 1}, {7, 1}}}
	r := frontierResults(t, fig, map[string]float64{"ppo": 40, "oracle": 10})
	got := r.EligibilitySummary("ppo", 5)
	// 39 > 27 on a and 41 > 33 on b: every seed flaps on both windows.
	want := []string{
		"seed 1: over 3x the oracle's actions on 2 of 2 windows (up to 41 against 11)",
		"seed 2: over 5% on b 5.5%; over 3x the oracle's actions on 2 of 2 windows (up to 41 against 11)",
		"seed 3: over 5% on a 6.5%, b 7.5%; over 3x the oracle's actions on 2 of 2 windows (up to 41 against 11)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("summary:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := len(r.Eligibility("ppo", 5)); n != 9 {
		t.Errorf("%d failures, want 9 (one per seed and window for actions, three for SLO)", n)
	}
}

// TestStrictSLOHandComputed: the strict reading takes a family's cheapest point
// whose every window of every seed is within the budget; a point within it on the
// mean over traces but over it on one trace does not count.
func TestStrictSLOHandComputed(t *testing.T) {
	// frontierResults puts trace a 0.5 below each mean, trace b 0.5 above.
	r := frontierResults(t, frontierFig, nil)
	for _, c := range []struct {
		budget float64
		want   map[string]string // family -> variant ("" none)
		worst  map[string]float64
	}{
		{5, map[string]string{"hpa": "hpa", "oracle": "oracle", "ppo": "ppo"}, map[string]float64{"hpa": 2.5, "oracle": 3.5, "ppo": 1.7}},
		// hpa is at 2 on the mean but 2.5 on trace b: hpa@0.5 (worst 2.0, seed 2 on b).
		{2, map[string]string{"hpa": "hpa@0.5", "oracle": "oracle@0.1", "ppo": "ppo"}, map[string]float64{"hpa": 2, "oracle": 1.1, "ppo": 1.7}},
		{1, map[string]string{"hpa": "", "oracle": "", "ppo": ""}, nil},
	} {
		for _, s := range r.StrictSLO(c.budget) {
			if s.Variant != c.want[s.Family] {
				t.Errorf("budget %v: %s -> %q, want %q", c.budget, s.Family, s.Variant, c.want[s.Family])
				continue
			}
			if s.Variant != "" && math.Abs(s.Worst-c.worst[s.Family]) > 1e-9 {
				t.Errorf("budget %v: %s worst %v, want %v", c.budget, s.Family, s.Worst, c.worst[s.Family])
			}
		}
	}
	ss := r.StrictSLO(2)
	if ss[0].Family != "hpa" || math.Abs(ss[0].Cost.Mean-(200+210+200)/3.0) > 1e-9 {
		t.Errorf("hpa@0.5 cost %+v", ss[0])
	}
	// The table at the SLO target (5%): ppo (130) is cheaper than hpa (150); the
	// oracle is never the cheapest.
	tab := r.strictTable()
	var cheapest []string
	for _, row := range tab.Rows {
		if strings.Contains(row[2], "cheapest") {
			cheapest = append(cheapest, row[0])
		}
	}
	if len(cheapest) != 1 || cheapest[0] != "ppo" {
		t.Errorf("cheapest rows %v, want [ppo]:\n%v", cheapest, tab.Rows)
	}
}

// TestRecommendChosenOnValidation: the operating point to run is each family's
// cheapest eligible one on the validation windows (within the target on every
// window of every seed, at most 3x the oracle's actions), the cheapest of them but
// the oracle's is recommended, and its test figures are read without a say in the
// choice: a point that breaks the target on a test window is still the one chosen,
// and the report says the choice did not hold.
func TestRecommendChosenOnValidation(t *testing.T) {
	val := map[string][3][2]float64{
		"hpa":        {{2, 150}, {2, 150}, {2, 150}},
		"hpa@0.5":    {{0.8, 200}, {1.5, 210}, {0.8, 200}},
		"hpa@0.9":    {{4.4, 100}, {4.4, 100}, {4.4, 100}}, // worst window 4.9: eligible
		"oracle":     {{3, 90}, {3, 90}, {3, 90}},
		"oracle@0.1": {{0.6, 110}, {0.6, 110}, {0.6, 110}},
		"ppo":        {{1.2, 80}, {1.2, 80}, {1.2, 80}}, // the cheapest, but it flaps
	}
	// ppo makes 40 actions per window against the oracle's 10 (9 and 11 per trace).
	actions := map[string]float64{"ppo": 40, "oracle": 10}
	for _, c := range []struct {
		name      string
		test      [3][2]float64 // hpa@0.9 on the test windows
		worstTest float64
		held      bool
	}{
		{"held", [3][2]float64{{4.4, 104}, {4.4, 104}, {4.4, 104}}, 4.9, true},
		{"broken on test", [3][2]float64{{4.4, 104}, {6, 104}, {4.4, 104}}, 6.5, false},
	} {
		test := map[string][3][2]float64{}
		for k, v := range val {
			test[k] = v
		}
		test["hpa@0.9"] = c.test
		r := splitResults(t, val, test, actions)
		c0 := r.Recommend()
		recs, best := c0.Recs, c0.Best
		// Left out, each trace holds the target under hpa@0.9 chosen on the other
		// (3.9 and 4.9%): the choice is made at the full target.
		if c0.Margin != 1 || len(c0.Checks) != 1 || c0.Checks[0].Held() != 2 {
			t.Errorf("%s: margin %v, checks %+v; want 1 after one check held on both", c.name, c0.Margin, c0.Checks)
		}
		want := map[string]string{"hpa": "hpa@0.9", "oracle": "oracle", "ppo": ""}
		for _, rec := range recs {
			if rec.Variant != want[rec.Family] {
				t.Errorf("%s: %s -> %q, want %q", c.name, rec.Family, rec.Variant, want[rec.Family])
			}
		}
		if best < 0 || recs[best].Variant != "hpa@0.9" {
			t.Fatalf("%s: recommended %d %+v, want hpa@0.9", c.name, best, recs)
		}
		rec := recs[best]
		if rec.Validation.Mean != 100 || rec.Test.Mean != 104 || math.Abs(rec.WorstTest-c.worstTest) > 1e-9 {
			t.Errorf("%s: %+v, want validation 100, test 104, worst test window %v", c.name, rec, c.worstTest)
		}
		line := r.recommendLine(c0)
		if !strings.Contains(line, "**hpa@0.9**") || strings.Contains(line, "the choice held") != c.held || strings.Contains(line, "did not hold") == c.held {
			t.Errorf("%s: %q", c.name, line)
		}
		tab := r.recommendTable(c0)
		rows := map[string][]string{}
		for _, row := range tab.Rows {
			rows[row[0]] = row
		}
		if rows["hpa"][1] != "**hpa@0.9** recommended" || rows["ppo"][1] != "none" || strings.HasSuffix(rows["hpa"][4], "✗") == c.held {
			t.Errorf("%s: table rows %q", c.name, tab.Rows)
		}
	}
	// ppo not flapping: the cheapest, recommended, with what it saves against HPA's
	// point (hpa@0.9, 104 on test): 100*(104-80)/104 = 23.1% on every seed.
	test := map[string][3][2]float64{}
	for k, v := range val {
		test[k] = v
	}
	test["hpa@0.9"] = [3][2]float64{{4.4, 104}, {4.4, 104}, {4.4, 104}}
	// Seed 2 is the cheapest on validation: the one to export.
	val2 := map[string][3][2]float64{}
	for k, v := range val {
		val2[k] = v
	}
	val2["ppo"] = [3][2]float64{{1.2, 82}, {1.2, 78}, {1.2, 80}}
	test["ppo"] = val["ppo"]
	r0 := splitResults(t, val2, test, map[string]float64{"ppo": 10, "oracle": 10})
	c1 := r0.Recommend()
	if c1.Best < 0 || c1.Recs[c1.Best].Variant != "ppo" {
		t.Fatalf("ppo not flapping: recommended %+v", c1.Recs)
	}
	line := r0.recommendLine(c1)
	for _, want := range []string{"Against HPA's point chosen by the same rule (hpa@0.9, 104 ± 0 on the test windows) it costs 23.1 ± 0% less",
		"To deploy it: `intelliscale export --run train/ppo__2 --out ppo.policy.json`, then `intelliscale live controller --policy-file ppo.policy.json --min 1 --max 50 --max-step 50 --startup-delay 30s` (seed 2, the cheapest of its seeds on validation; on the test windows that seed alone costs 80 replica-hours, worst window 1.7%; with --project NAME for a Docker Compose service, or --backend kubernetes --workload deployment/NAME)."} {
		if !strings.Contains(line, want) {
			t.Errorf("ppo not flapping: %s\nwant %q", line, want)
		}
	}
	// The deployed seed's own test figures: its cost and worst window, not the
	// mean over seeds; nothing said where a test window has no figure.
	test["ppo"] = [3][2]float64{{1.2, 81}, {2.2, 79}, {1.2, 80}}
	r0 = splitResults(t, val2, test, map[string]float64{"ppo": 10, "oracle": 10})
	if got, want := r0.seedTestWords("ppo", 2), "; on the test windows that seed alone costs 79 replica-hours, worst window 2.7%"; got != want {
		t.Errorf("seed 2's test figures: %q, want %q", got, want)
	}
	delete(test, "ppo")
	r0 = splitResults(t, val2, test, map[string]float64{"ppo": 10, "oracle": 10})
	if got := r0.seedTestWords("ppo", 2); got != "" {
		t.Errorf("no test figures: %q, want none", got)
	}

	// Nothing eligible but the oracle: nothing is recommended.
	r := splitResults(t, map[string][3][2]float64{"oracle": val["oracle"], "hpa": {{6, 1}, {6, 1}, {6, 1}}}, nil, actions)
	if c := r.Recommend(); c.Best != -1 || !strings.Contains(r.recommendLine(c), "none is recommended") {
		t.Errorf("nothing eligible: best %d, %q", c.Best, r.recommendLine(c))
	}
}

// hpaOracleConfig is an experiment on traces (a YAML flow list's items) with seeds
// 1 and 2, an hpa family (base, @0.5, @0.8, @0.9) and an oracle.
func hpaOracleConfig(t *testing.T, traces string) *experiments.Config {
	cfg, err := experiments.Parse([]byte(`name: f
seeds: [1, 2]
traces: [`+traces+`]
policies:
  - {name: hpa, kind: hpa, params: {target_utilization: 0.6}, sweep: {param: target_utilization, values: [0.5, 0.8, 0.9]}}
  - {name: oracle, kind: oracle}
`), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// threeTraceResults builds an hpa family (base, @0.5, @0.8, @0.9) and an oracle on
// three traces a, b, c and two seeds; fig gives per variant its validation
// violations on a, b and c and its cost (the same on every trace and seed); the test
// windows repeat the validation figures, with violations raised by 0.3.
func threeTraceResults(t *testing.T, traces string, fig map[string][4]float64) *Results {
	cfg := hpaOracleConfig(t, traces)
	var cells []experiments.CellMetrics
	for name, f := range fig {
		for _, seed := range cfg.Seeds {
			for i, tr := range cfg.Traces {
				for _, split := range []string{"validation", "test"} {
					v := f[i]
					if split == "test" {
						v += 0.3
					}
					cells = append(cells, experiments.CellMetrics{Trace: tr.Name, Policy: name, Seed: seed, Split: split,
						Metrics: map[string]experiments.Num{"slo_violations": experiments.Num(v), "cost": experiments.Num(f[3]), "scaling_actions": 10}})
				}
			}
		}
	}
	return NewResults("", cfg, cells)
}

// TestRecommendLeaveOneTraceOut: the share of the target the choice is made at is
// set by leaving one trace out, on validation alone (hand-computed).
func TestRecommendLeaveOneTraceOut(t *testing.T) {
	const abc = "{name: a, builtin: bursty}, {name: b, builtin: step}, {name: c, builtin: onoff}"
	fig := map[string][4]float64{
		"hpa":     {2, 2.5, 3, 150},
		"hpa@0.5": {1, 1, 1, 200},
		"hpa@0.8": {3, 3.5, 4.9, 100}, // meets 5% everywhere, but c is near it
		"hpa@0.9": {4.5, 4.9, 6, 90},  // meets 5% on a and b only
		"oracle":  {3, 3, 3, 80},
	}
	r := threeTraceResults(t, abc, fig)
	c := r.Recommend()
	// At the full 5%: chosen on b, c: hpa@0.8, on a 3% (held); on a, c: hpa@0.8, on
	// b 3.5% (held); on a, b: hpa@0.9, on c 6% (broken). At 90% (4.5%): on b, c and
	// on a, c hpa@0.8 is out (c 4.9%): hpa, held; on a, b hpa@0.9 is out (b 4.9%):
	// hpa@0.8, on c 4.9% (held). So the choice is made at 4.5%: hpa, not hpa@0.8,
	// the choice at the full target.
	if c.Margin != 0.9 || len(c.Checks) != 2 || c.Checks[0].Held() != 2 || c.Checks[1].Held() != 3 {
		t.Fatalf("margin %v, checks %+v", c.Margin, c.Checks)
	}
	want := [][]string{{"hpa@0.8", "hpa@0.8", "hpa@0.9"}, {"hpa", "hpa", "hpa@0.8"}}
	for i, mc := range c.Checks {
		for j, f := range mc.Folds {
			if f.HeldOut != []string{"a", "b", "c"}[j] || f.Variant != want[i][j] {
				t.Errorf("margin %v, fold %d: %+v, want %s chosen", mc.Margin, j, f, want[i][j])
			}
		}
	}
	if f := c.Checks[0].Folds[2]; f.Worst != 6 || f.Held {
		t.Errorf("c left out at 5%%: %+v, want hpa@0.9 at 6%%, broken", f)
	}
	if c.Best < 0 || c.Recs[c.Best].Variant != "hpa" || c.Recs[c.Best].Test.Mean != 150 || math.Abs(c.Recs[c.Best].WorstTest-3.3) > 1e-9 {
		t.Fatalf("recommended %+v", c.Recs)
	}
	if math.Abs(c.Budget()-4.5) > 1e-9 {
		t.Errorf("budget %v, want 4.5", c.Budget())
	}
	line := r.recommendLine(c)
	if c.AtTarget.Variant != "hpa@0.8" || c.AtTarget.Test.Mean != 100 || math.Abs(c.AtTarget.WorstTest-5.2) > 1e-9 {
		t.Errorf("at the full target: %+v, want hpa@0.8, 100, worst 5.2", c.AtTarget)
	}
	if line := r.recommendLine(c); strings.Contains(line, "Against HPA") {
		t.Errorf("the recommended point is HPA's: %s", line)
	}
	for _, s := range []string{"**hpa**", "To deploy it: `intelliscale live controller --policy hpa --params '{target_utilization: 0.6}' --min 1 --max 50 --max-step 50 --startup-delay 30s` (with --project NAME for a Docker Compose service, or --backend kubernetes --workload deployment/NAME).", "within 4.5% violations, 90% of the target", "held the target on 2 of 3 traces left out; at 90% of it, on all 3", "the choice held", "At the full target the rule would pick hpa@0.8: 100 ± 0 replica-hours on the test windows, worst window 5.2%"} {
		if !strings.Contains(line, s) {
			t.Errorf("line lacks %q: %s", s, line)
		}
	}
	var buf bytes.Buffer
	if err := WriteChoiceCSV(&buf, c); err != nil {
		t.Fatal(err)
	}
	if want := "hpa,hpa,true,5,0.9,4.5,150,0,150,0,3.3,true\noracle,oracle,false,5,0.9,4.5,80,0,80,0,3.3,true\n"; !strings.HasSuffix(buf.String(), want) {
		t.Errorf("choice.csv\n%s\nwant it to end\n%s", buf.String(), want)
	}
	tab := r.transferTable(c)
	if tab == nil || len(tab.Rows) != 2 || tab.Rows[0][4] != "hpa@0.9: 6 ✗" || tab.Rows[0][5] != "2 of 3" || tab.Rows[1][5] != "3 of 3" {
		t.Errorf("transfer table %+v", tab)
	}

	// A point cheap on a and b that breaks c at every share of the target: no
	// margin passes, and the choice is made at the full target, with a warning.
	fig["hpa@0.9"] = [4]float64{0.1, 0.1, 6, 90}
	r = threeTraceResults(t, abc, fig)
	c = r.Recommend()
	if !math.IsNaN(c.Margin) || len(c.Checks) != len(Margins) || c.Recs[c.Best].Variant != "hpa@0.8" || math.Abs(c.Budget()-5) > 1e-9 {
		t.Errorf("no margin: margin %v, %d checks, recommended %+v", c.Margin, len(c.Checks), c.Recs[c.Best])
	}
	if line := r.recommendLine(c); !strings.Contains(line, "may not hold on other traffic") {
		t.Errorf("no margin: %s", line)
	}

	// One trace: nothing to leave out; the choice is made at the full target.
	r = threeTraceResults(t, "{name: a, builtin: bursty}", map[string][4]float64{"hpa@0.8": {4.9, 0, 0, 100}, "hpa": {2, 0, 0, 150}, "oracle": {3, 0, 0, 80}})
	c = r.Recommend()
	if c.Margin != 1 || len(c.Checks) != 0 || r.transferTable(c) != nil || c.Recs[c.Best].Variant != "hpa@0.8" {
		t.Errorf("one trace: margin %v, checks %+v, recommended %+v", c.Margin, c.Checks, c.Recs[c.Best])
	}
	if line := r.recommendLine(c); !strings.Contains(line, "With one trace and its validation timelines unreadable (") {
		t.Errorf("one trace: %s", line)
	}
}

// TestRecommendLeaveOneHalfOut: with one trace, the two halves of its validation
// window, recomputed from the cells' timelines, take the traces' place (hand-computed).
func TestRecommendLeaveOneHalfOut(t *testing.T) {
	// Per variant: violations per row in the first and second half (of 1,000
	// arrivals a row, two rows a half) and cost per row.
	fig := map[string][3]float64{
		"hpa":     {10, 10, 1.5},
		"hpa@0.5": {5, 5, 2},
		"hpa@0.8": {20, 44, 1},   // halves 2% and 4.4%, window 3.2%
		"hpa@0.9": {36, 54, 0.9}, // halves 3.6% and 5.4%, window 4.5%
		"oracle":  {30, 30, 0.7},
	}
	cfg := hpaOracleConfig(t, "{name: a, builtin: bursty}")
	dir := t.TempDir()
	var cells []experiments.CellMetrics
	for name, f := range fig {
		for _, seed := range cfg.Seeds {
			for _, split := range []string{"validation", "test"} {
				v := (2*f[0] + 2*f[1]) / 40 // percent of 4,000 arrivals
				if split == "test" {
					v += 0.3
				}
				cells = append(cells, experiments.CellMetrics{Trace: "a", Policy: name, Seed: seed, Split: split,
					Metrics: map[string]experiments.Num{"slo_violations": experiments.Num(v), "cost": experiments.Num(4 * f[2]), "scaling_actions": 0}})
			}
		}
	}
	r := NewResults(dir, cfg, cells)
	for name, f := range fig {
		for _, seed := range cfg.Seeds {
			tl := "arrivals,slo_violations,cost,desired\n"
			for i := range 4 {
				tl += fmt.Sprintf("1000,%g,%g,10\n", f[i/2], f[2])
			}
			path := r.cellFile("a", name, seed, "validation", "timeline.csv")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tl), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := r.Recommend()
	// At 5%, 4.5% and 4%: chosen on the first half, hpa@0.9 (3.6%) breaks the second
	// (5.4%). At 70% (3.5%): hpa@0.8 on the first half, 4.4% on the second (held);
	// hpa on the second, 1% on the first (held). The choice is then made at 3.5% on
	// the window and on each half: hpa (hpa@0.8 breaks it on the second half, 4.4%).
	// At the full target it would be hpa@0.8: hpa@0.9 meets 5% on the window (4.5%)
	// but not on its second half (5.4%).
	if !c.Halves || math.Abs(c.Margin-0.7) > 1e-12 || len(c.Checks) != 4 || c.Checks[0].Held() != 1 || c.Checks[3].Held() != 2 {
		t.Fatalf("halves %v, margin %v, checks %+v", c.Halves, c.Margin, c.Checks)
	}
	if f := c.Checks[0].Folds[1]; f.HeldOut != "a, second half" || f.Variant != "hpa@0.9" || math.Abs(f.Worst-5.4) > 1e-9 || f.Held {
		t.Errorf("second half left out at 5%%: %+v", f)
	}
	if c.Recs[c.Best].Variant != "hpa" || c.AtTarget.Variant != "hpa@0.8" {
		t.Errorf("recommended %q (at the full target %q), want hpa (hpa@0.8)", c.Recs[c.Best].Variant, c.AtTarget.Variant)
	}
	if line := r.recommendLine(c); !strings.Contains(line, "by leaving one half of the validation window out") || !strings.Contains(line, "on 1 of 2 halves left out; at 70% of it, on all 2") {
		t.Errorf("line: %s", line)
	}
	if tab := r.transferTable(c); tab == nil || !strings.HasPrefix(tab.Title, "Leave one half out") || tab.Rows[0][3] != "hpa@0.9: 5.4 ✗" {
		t.Errorf("table %+v", tab)
	}
	// A timeline missing: nothing is left out, the choice is made at the full target.
	if err := os.Remove(r.cellFile("a", "oracle", 2, "validation", "timeline.csv")); err != nil {
		t.Fatal(err)
	}
	if c := r.Recommend(); c.Halves || len(c.Checks) != 0 || c.Margin != 1 || c.Recs[c.Best].Variant != "hpa@0.9" || !strings.Contains(c.NoHalves, "timeline.csv") {
		t.Errorf("without a timeline: halves %v (%q), checks %d, margin %v, recommended %q", c.Halves, c.NoHalves, len(c.Checks), c.Margin, c.Recs[c.Best].Variant)
	}
}

// TestDeployLineOfAnEnsemble: the recommended point of an ensemble_of entry is
// deployed by exporting every seed's run of the policy it is of, with its vote and
// deploy-time params; the live controller is told to add the service it scales.
func TestDeployLineOfAnEnsemble(t *testing.T) {
	cfg, err := experiments.Parse([]byte(`name: f
seeds: [1, 2]
traces: [{name: a, builtin: bursty}]
policies:
  - {name: ppo, kind: ppo, train: {steps: 1}}
  - {name: ppo-ens, kind: ppo, ensemble_of: ppo, vote: median, sweep: {param: headroom_scale, values: [0.8]}}
`), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := NewResults("res", cfg, nil)
	got := r.deployLine(Choice{Recs: []Recommendation{{Family: "ppo-ens", Variant: "ppo-ens@0.8"}}, Best: 0})
	want := "To deploy it: `intelliscale export --run res/train/ppo__1 --run res/train/ppo__2 --vote median --params '{headroom_scale: 0.8}' --out ppo-ens.policy.json`, then `intelliscale live controller --policy-file ppo-ens.policy.json --min 1 --max 50 --max-step 50 --startup-delay 30s` (the ensemble of the networks of ppo's 2 seeds, as evaluated; with --project NAME for a Docker Compose service, or --backend kubernetes --workload deployment/NAME)."
	if got != want {
		t.Errorf("deploy line:\n got %s\nwant %s", got, want)
	}
	// With one seed the ensemble is that seed's network: export takes no --vote
	// with one --run.
	cfg.Seeds = []uint64{1}
	got = NewResults("res", cfg, nil).deployLine(Choice{Recs: []Recommendation{{Family: "ppo-ens", Variant: "ppo-ens@0.8"}}, Best: 0})
	want = "To deploy it: `intelliscale export --run res/train/ppo__1 --params '{headroom_scale: 0.8}' --out ppo-ens.policy.json`, then `intelliscale live controller --policy-file ppo-ens.policy.json --min 1 --max 50 --max-step 50 --startup-delay 30s` (the network of ppo's one seed, which is the ensemble evaluated; with --project NAME for a Docker Compose service, or --backend kubernetes --workload deployment/NAME)."
	if got != want {
		t.Errorf("deploy line of one seed:\n got %s\nwant %s", got, want)
	}
}

// The deploy line of tuned HPA carries the value the grid search chose, one command
// when every trace chose the same, the value of each trace otherwise; and the live
// controller's bounds and service facts are the experiment's.
func TestDeployLineOfTunedHPA(t *testing.T) {
	cfg, err := experiments.Parse([]byte(`name: tuned
sim: {max_replicas: 120, min_replicas: 2, slo: {latency: 1s}, concurrency: 8, control_interval: 30s}
traces: [{name: a, builtin: bursty}, {name: b, builtin: step}]
policies:
  - {name: oracle, kind: oracle}
  - {name: ht, kind: hpa-tuned, tune: {grid: [0.6, 0.7, 0.8]}}
`), "tuned.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &Results{Dir: dir, Config: cfg}
	write := func(trace string, v float64) {
		c := experiments.Cell{Phase: experiments.PhaseTune, Policy: "ht", Kind: experiments.KindHPATuned, Trace: trace}
		b, _ := json.Marshal(experiments.TunedValue{Param: "target_utilization", Value: experiments.Num(v), Qualified: true})
		if err := os.MkdirAll(filepath.Join(dir, c.Dir()), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.Dir(), "chosen.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bounds := " --min 2 --max 120 --max-step 120 --interval 30s --slo 1s --slots 8 --startup-delay 30s"
	if got := r.tunedDeployLine("ht", r.liveFlags(true)); !strings.Contains(got, "trace a's is unreadable") {
		t.Errorf("no chosen values: %s", got)
	}
	write("a", 0.8)
	write("b", 0.8)
	want := "To deploy it: `intelliscale live controller --policy hpa --params '{target_utilization: 0.8}'" + bounds + "` (the value the grid search chose on the training windows; with --project NAME for a Docker Compose service, or --backend kubernetes --workload deployment/NAME)."
	if got := r.tunedDeployLine("ht", r.liveFlags(true)); got != want {
		t.Errorf("one value:\n got %s\nwant %s", got, want)
	}
	write("b", 0.7)
	if got := r.tunedDeployLine("ht", r.liveFlags(true)); !strings.Contains(got, "--params '{target_utilization: V}'"+bounds+"`, with V") || !strings.HasSuffix(got, "(a 0.8, b 0.7; with --project NAME for a Docker Compose service, or --backend kubernetes --workload deployment/NAME).") {
		t.Errorf("two values: %s", got)
	}
	if got := r.liveFlags(false); strings.Contains(got, "--interval") {
		t.Errorf("a policy file's flags name the interval it carries: %s", got)
	}
}
