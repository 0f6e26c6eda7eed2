package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/experiments"
)

// HPA behind the shield is recommended where plain HPA, listed first, has no
// eligible point: the line says so and gives plain HPA's figures as configured,
// rather than comparing the choice with itself and saying nothing.
func TestRecommendedShieldAgainstPlainHPA(t *testing.T) {
	cfg, err := experiments.Parse([]byte(`name: f
seeds: [1, 2]
traces: [{name: a, builtin: bursty}, {name: b, builtin: step}]
policies:
  - {name: hpa, kind: hpa, params: {target_utilization: 0.6}}
  - {name: hpa-shield, kind: hpa, params: {scale_down_stabilization: 10m}, sweep: {param: target_utilization, values: [0.5]}}
  - {name: oracle, kind: oracle}
`), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Per variant and split, the (violations, cost) of every trace and seed.
	fig := map[string]map[string][2]float64{
		"hpa":            {"validation": {5.5, 100}, "test": {1.5, 100}},
		"hpa-shield":     {"validation": {6, 110}, "test": {1, 110}},
		"hpa-shield@0.5": {"validation": {2, 130}, "test": {0.8, 130}},
		"oracle":         {"validation": {3, 60}, "test": {3, 60}},
	}
	var cells []experiments.CellMetrics
	for name, per := range fig {
		for split, f := range per {
			for _, seed := range cfg.Seeds {
				for _, tr := range []string{"a", "b"} {
					cells = append(cells, experiments.CellMetrics{Trace: tr, Policy: name, Seed: seed, Split: split,
						Metrics: map[string]experiments.Num{"slo_violations": experiments.Num(f[0]), "cost": experiments.Num(f[1]), "scaling_actions": 10}})
				}
			}
		}
	}
	r := NewResults("", cfg, cells)
	c := r.Recommend()
	if c.Best < 0 || c.Recs[c.Best].Variant != "hpa-shield@0.5" {
		t.Fatalf("recommended %+v, want hpa-shield@0.5", c)
	}
	// 100*(100-130)/100: 30% more.
	line := r.recommendLine(c)
	want := "the choice held. HPA (hpa) has no eligible point to compare it with: as configured its worst validation window has 5.5% violations; on the test windows it costs 100 ± 0, worst window 1.5%, and the choice costs 30 ± 0% more, paired by seed."
	if !strings.Contains(line, want) {
		t.Errorf("line:\n%s\nwant %q", line, want)
	}
	if strings.Contains(line, "has no eligible point") && strings.Contains(line, "a policy of kind hpa") {
		t.Errorf("line says no policy of kind hpa has a point, the recommended one has: %s", line)
	}
}

// An oracle whose every operating point breaks the SLO target on a test window is
// not called the floor of meeting it: the report says its ratios overstate what a
// policy could save, and names the best of its worst windows.
func TestOracleThatBreaksTheTargetIsNotAFloor(t *testing.T) {
	r := splitResults(t, choiceVal, choiceVal, map[string]float64{"ppo": 10, "oracle": 10})
	if w := r.oracleBreaksWords(); w != "" {
		t.Errorf("oracle within the target (worst window 1.1%%): %q", w)
	}
	test := map[string][3][2]float64{}
	for k, v := range choiceVal {
		test[k] = v
	}
	// Trace b adds 0.5 points: worst windows 6.5% and 6.3%.
	test["oracle"] = [3][2]float64{{6, 90}, {6, 90}, {6, 90}}
	test["oracle@0.1"] = [3][2]float64{{5.8, 110}, {5.8, 110}, {5.8, 110}}
	r = splitResults(t, choiceVal, test, map[string]float64{"ppo": 10, "oracle": 10})
	want := "Here no operating point of the oracle keeps every test window within the 5% target (the best's worst window has 6.3% violations): its cost is not that of meeting the SLO, and a ratio to it (\"x oracle\") overstates what a policy could save"
	if w := r.oracleBreaksWords(); !strings.Contains(w, want) {
		t.Errorf("oracle over the target: %q\nwant %q", w, want)
	}
	var md bytes.Buffer
	r.markdown(&md, &Headline{}, nil, nil, "", false, nil, nil, nil)
	if !strings.Contains(md.String(), "The oracle knows the future; a family that does not reach a level on every seed is \"not reached\". "+want) || strings.Contains(md.String(), "The oracle is the floor") {
		t.Errorf("report on an oracle over the target:\n%s", md.String())
	}
}

// A config that prices a replica-hour (sim.cost_per_replica_hour) gets its costs in
// cost units, said once what they are, not labelled replica-hours, which they are
// not; at the default price of 1 they stay replica-hours.
func TestPricedCostsAreNotReplicaHours(t *testing.T) {
	const cfg = `name: priced
traces: [{name: aa, builtin: bursty}, {name: bbb, builtin: step}]
policies: [{name: hpa, kind: hpa}, {name: ppo, kind: ppo, train: {steps: 10}}, {name: oracle, kind: oracle}]
`
	_, md := runReport(t, cfg)
	if !bytes.Contains(md, []byte("- Cost is in replica-hours;")) || bytes.Contains(md, []byte("cost units")) {
		t.Errorf("default price: costs not in replica-hours:\n%s", md)
	}
	_, md = runReport(t, cfg+"sim: {cost_per_replica_hour: 0.05}\n")
	what := "cost units, replica-hours times sim.cost_per_replica_hour (0.05)"
	for _, want := range []string{"- Cost is in " + what + ";", "| policy | kind | SLO viol. % | p95 s | p99 s | cost (cost units) |"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("priced: report lacks %q", want)
		}
	}
	if n, m := bytes.Count(md, []byte("replica-h")), bytes.Count(md, []byte(what)); n != m {
		t.Errorf("priced: %d mentions of replica-hours, %d of them saying what a cost unit is:\n%s", n, m, md)
	}
}
