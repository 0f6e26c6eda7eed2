package reports

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/experiments"
)

func TestMeanCIHandComputed(t *testing.T) {
	// xs = 1, 2, 3, 6: mean 3, sample sd sqrt(((4+1+0+9)/3)) = sqrt(14/3),
	// half-width t(0.975, 3) * sd / sqrt(4) = 3.182 * 2.1602 / 2 = 3.4369.
	s := MeanCI([]float64{1, 2, 3, 6})
	if s.N != 4 || s.Mean != 3 {
		t.Fatalf("stat %+v", s)
	}
	want := 3.182 * math.Sqrt(14.0/3) / 2
	if math.Abs(s.CI-want) > 1e-12 || math.Abs(s.CI-3.4369) > 1e-3 {
		t.Errorf("CI %v, want %v", s.CI, want)
	}
	// Two values: t(0.975, 1) = 12.706; sd of {0, 2} is sqrt(2); CI = 12.706*sqrt(2)/sqrt(2).
	if s := MeanCI([]float64{0, 2}); math.Abs(s.CI-12.706) > 1e-12 {
		t.Errorf("n=2 CI %v, want 12.706", s.CI)
	}
	// NaN values are left out; one value has no interval; none has no mean.
	if s := MeanCI([]float64{math.NaN(), 5}); s.N != 1 || s.Mean != 5 || !math.IsNaN(s.CI) {
		t.Errorf("single %+v", s)
	}
	if s := MeanCI(nil); !math.IsNaN(s.Mean) {
		t.Errorf("empty %+v", s)
	}
	// Identical values: zero width.
	if s := MeanCI([]float64{4, 4, 4}); s.CI != 0 {
		t.Errorf("constant CI %v", s.CI)
	}
}

func TestTCritical(t *testing.T) {
	if TCritical(2) != 4.303 || TCritical(30) != 2.042 {
		t.Error("table values")
	}
	// Beyond the table the approximation decreases towards z = 1.96 and stays above it.
	prev := TCritical(30)
	for _, df := range []int{31, 60, 120, 1000} {
		v := TCritical(df)
		if v >= prev || v <= 1.959964 {
			t.Errorf("t(%d) = %v after %v", df, v, prev)
		}
		prev = v
	}
	if math.Abs(TCritical(120)-1.980) > 2e-3 {
		t.Errorf("t(120) = %v, want about 1.980", TCritical(120))
	}
}

func TestSelectWinner(t *testing.T) {
	st := func(m float64) Stat { return Stat{Mean: m, N: 3} }
	cases := []struct {
		name string
		cs   []Candidate
		want int
	}{
		{"cheapest qualified", []Candidate{{Policy: "a", Cost: st(5), Qualified: true}, {Policy: "b", Cost: st(3), Qualified: true}, {Policy: "c", Cost: st(1), Qualified: false}}, 1},
		{"none qualified: fewest violations", []Candidate{{Policy: "a", SLOViolations: st(9), Cost: st(1)}, {Policy: "b", SLOViolations: st(7), Cost: st(9)}}, 1},
		{"tie goes to first", []Candidate{{Policy: "a", Cost: st(2), Qualified: true}, {Policy: "b", Cost: st(2), Qualified: true}}, 0},
		{"empty", nil, -1},
		// A candidate without validation figures (NaN) has not shown it has few
		// violations: it must not win the fallback by coming first.
		{"none qualified: undefined violations lose", []Candidate{{Policy: "a", SLOViolations: st(math.NaN())}, {Policy: "b", SLOViolations: st(12)}, {Policy: "c", SLOViolations: st(8)}}, 2},
		{"none qualified: all undefined", []Candidate{{Policy: "a", SLOViolations: st(math.NaN())}, {Policy: "b", SLOViolations: st(math.NaN())}}, 0},
	}
	for _, c := range cases {
		if got := SelectWinner(c.cs); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// results builds a two-trace, three-seed experiment by hand:
// per cell metrics are chosen so that every figure can be computed on paper.
func handResults(t *testing.T) *Results {
	cfg, err := experiments.Parse([]byte(`name: hand
seeds: [1, 2, 3]
traces: [{name: a, builtin: bursty}, {name: b, builtin: step}]
policies:
  - {name: threshold, kind: threshold}
  - {name: hpa-tuned, kind: hpa-tuned, tune: {grid: [0.5]}}
  - {name: oracle, kind: oracle}
  - {name: ppo, kind: ppo, train: {steps: 1}}
  - {name: dqn, kind: dqn, train: {steps: 1}}
`), "hand.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// cost(policy, trace, seed) and slo(policy, split).
	cost := map[string]float64{"threshold": 10, "hpa-tuned": 8, "oracle": 5, "ppo": 6, "dqn": 4}
	slo := map[string]map[string]float64{
		"validation": {"threshold": 2, "hpa-tuned": 3, "oracle": 1, "ppo": 4, "dqn": 6}, // dqn over the 5% budget
		"test":       {"threshold": 2, "hpa-tuned": 3, "oracle": 1, "ppo": 2.5, "dqn": 6},
	}
	under := map[string]float64{"threshold": 60, "hpa-tuned": 40, "oracle": 10, "ppo": 30, "dqn": 20}
	var cells []experiments.CellMetrics
	for _, split := range []string{"validation", "test"} {
		for _, seed := range []uint64{1, 2, 3} {
			for _, tr := range []string{"a", "b"} {
				for _, p := range cfg.Policies {
					f := 1.0
					if tr == "b" {
						f = 2 // trace b costs twice as much
					}
					c := cost[p.Name] * f
					if p.Name == "ppo" {
						c += float64(seed) - 2 // seeds 1,2,3 -> -1, 0, +1
					}
					cells = append(cells, experiments.CellMetrics{Trace: tr, Policy: p.Name, Kind: p.Kind, Seed: seed, Split: split,
						Metrics: map[string]experiments.Num{"cost": experiments.Num(c), "slo_violations": experiments.Num(slo[split][p.Name]),
							"under_provision_seconds": experiments.Num(under[p.Name]), "theta_o": experiments.Num(cost[p.Name]), "accuracy": experiments.Num(100 - cost[p.Name])}})
				}
			}
		}
	}
	return NewResults("", cfg, cells)
}

func TestHeadlineHandComputed(t *testing.T) {
	r := handResults(t)
	h, err := r.ComputeHeadline()
	if err != nil {
		t.Fatal(err)
	}
	// dqn is cheaper but violates the SLO on validation: ppo wins.
	if h.Winner != "ppo" || !h.Qualified || h.SLOBudget < 4.999 || h.SLOBudget > 5.001 {
		t.Fatalf("winner %q qualified %v budget %v", h.Winner, h.Qualified, h.SLOBudget)
	}
	if len(h.Comparisons) != 2 || h.Comparisons[0].Baseline != "threshold" || h.Comparisons[1].Baseline != "hpa-tuned" {
		t.Fatalf("comparisons %+v", h.Comparisons)
	}
	c := h.Comparisons[0]
	// Under-provisioning: (60-30)/60 = 50% on every cell: mean 50, CI 0.
	if c.UnderProvisioning.Mean != 50 || c.UnderProvisioning.CI != 0 {
		t.Errorf("under-provisioning improvement %+v", c.UnderProvisioning)
	}
	// Cost vs threshold, per seed s (d = s-2): threshold costs 10 and 20 on traces a
	// and b (mean 15), ppo 6+d and 12+d (mean 9+d): 100*(15-(9+d))/15.
	var per []float64
	for _, d := range []float64{-1, 0, 1} {
		per = append(per, 100*(15-(9+d))/15)
	}
	want := MeanCI(per)
	if math.Abs(c.Cost.Mean-want.Mean) > 1e-9 || math.Abs(c.Cost.CI-want.CI) > 1e-9 || math.Abs(c.Cost.Mean-40) > 1e-9 {
		t.Errorf("cost reduction %+v, want %+v (mean 40)", c.Cost, want)
	}
	// SLO difference vs threshold on test: 2.5 - 2 = +0.5 points (worse).
	if c.SLOViolations.Mean != 0.5 {
		t.Errorf("SLO difference %+v", c.SLOViolations)
	}
	// Verdicts say plainly where the learned policy loses.
	joined := strings.Join(c.Verdicts, "\n")
	if !strings.Contains(joined, "ppo does not beat threshold on SLO violations: 0.5 points worse") {
		t.Errorf("verdicts lack the SLO loss:\n%s", joined)
	}
	if !strings.Contains(joined, "ppo beats threshold on mean under-provisioning duration by 50%") {
		t.Errorf("verdicts lack the responsiveness win:\n%s", joined)
	}
	// Cost relative to the oracle: ppo (6+d)/5 and (12+d)/10 -> mean over seeds 1.2.
	if s := r.CostVsOracle("ppo", "test"); math.Abs(s.Mean-1.2) > 1e-9 {
		t.Errorf("cost vs oracle %+v, want 1.2", s)
	}
}

func TestHeadlineNobodyQualifies(t *testing.T) {
	r := handResults(t)
	r.Config.Sim.SLO.Target = 0.99 // budget 1%: ppo (4) and dqn (6) both fail
	h, err := r.ComputeHeadline()
	if err != nil {
		t.Fatal(err)
	}
	if h.Winner != "ppo" || h.Qualified || len(h.Notes) == 0 || !strings.Contains(h.Notes[0], "No learned policy is eligible") {
		t.Errorf("winner %q qualified %v notes %v", h.Winner, h.Qualified, h.Notes)
	}
}

func TestHeadlineIgnoresTestWindowsForSelection(t *testing.T) {
	r := handResults(t)
	// Make dqn excellent on test only: the choice must not change.
	for i := range r.Cells {
		if r.Cells[i].Policy == "dqn" && r.Cells[i].Split == "test" {
			r.Cells[i].Metrics["slo_violations"] = 0
		}
	}
	r = NewResults("", r.Config, r.Cells)
	h, _ := r.ComputeHeadline()
	if h.Winner != "ppo" {
		t.Errorf("winner %q: selection looked at test windows", h.Winner)
	}
}

const time60 = 60 * timeD(1e9)

type timeD = time.Duration

func TestBuildFromDisk(t *testing.T) {
	cfg, err := experiments.Parse([]byte(`name: small
traces: [{name: aa, builtin: bursty}, {name: bbb, builtin: step}]
policies:
  - {name: threshold, kind: threshold}
  - {name: hpa-tuned, kind: hpa-tuned, tune: {grid: [0.6, 0.9]}}
  - {name: oracle, kind: oracle}
  - {name: ppo, kind: ppo, train: {steps: 1000}}
`), "small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := &experiments.Runner{Config: cfg, Out: dir, Backend: fakeBackend(), Workers: 2}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var term bytes.Buffer
	if err := Build(dir, &term); err != nil {
		t.Fatal(err)
	}
	md1, _ := os.ReadFile(filepath.Join(dir, "report", "REPORT.md"))
	hc1, _ := os.ReadFile(filepath.Join(dir, "headline.csv"))
	for _, want := range []string{"Costs are replica-hours per window (means over traces); the windows last: aa validation 0.133 h, test 0.133 h; bbb validation 0.133 h, test 0.133 h.\n", "the lowest cost among the eligible learned policies (every seed within 5% violations", "Chosen: **ppo**", "### Headline: ppo against the baselines", "| threshold |", "![Cost against SLO violations (Pareto view)](pareto.png)", "reward_curves.png", "replicas_aa.png", "p95_bbb.png", "latency_cdf.png"} {
		if !bytes.Contains(md1, []byte(want)) {
			t.Errorf("REPORT.md lacks %q", want)
		}
	}
	for _, want := range []string{"under-prov. duration improvement %", "ppo"} {
		if !strings.Contains(term.String(), want) {
			t.Errorf("terminal output lacks %q", want)
		}
	}
	if !bytes.HasPrefix(hc1, []byte("section,policy,baseline,metric,mean,ci95,n\n")) || !bytes.Contains(hc1, []byte("headline,ppo,hpa-tuned,cost_reduction_percent,")) {
		t.Errorf("headline.csv:\n%s", hc1)
	}
	for _, f := range []string{"reward_curves", "replicas_aa", "p95_aa", "pareto", "latency_cdf"} {
		for _, ext := range []string{".png", ".svg"} {
			fi, err := os.Stat(filepath.Join(dir, "report", f+ext))
			if err != nil || fi.Size() < 1000 {
				t.Errorf("%s%s: %v", f, ext, err)
			}
		}
	}
	// Rebuilding from disk alone (the cell data untouched) gives the same report.
	os.RemoveAll(filepath.Join(dir, "report"))
	if err := Build(dir, nil); err != nil {
		t.Fatal(err)
	}
	md2, _ := os.ReadFile(filepath.Join(dir, "report", "REPORT.md"))
	hc2, _ := os.ReadFile(filepath.Join(dir, "headline.csv"))
	if !bytes.Equal(md1, md2) || !bytes.Equal(hc1, hc2) {
		t.Error("rebuilt report differs")
	}
}

func TestBuildWithoutValidationSaysNoHeadline(t *testing.T) {
	_, md := runReport(t, `name: testonly
eval: [test]
traces: [{name: aa, builtin: bursty}]
policies: [{name: threshold, kind: threshold}, {name: ppo, kind: ppo, train: {steps: 10}}]
`)
	if !bytes.Contains(md, []byte("No headline: headline needs evaluation on both validation and test windows")) {
		t.Errorf("REPORT.md does not say why there is no headline:\n%s", md)
	}
	// Nor is a choice made on validation windows it did not evaluate.
	if !bytes.Contains(md, []byte("To run at the 5% target: no validation windows were evaluated (the config's eval lists test)")) {
		t.Errorf("REPORT.md does not say why nothing is recommended:\n%s", md)
	}
}

// An experiment that evaluated its train windows alone says that the figures read on
// the test windows are missing, rather than that no family reaches a level; and
// without an oracle in the config, none is named.
func TestBuildTrainOnlySaysNoTestWindows(t *testing.T) {
	cfg, md := runReport(t, `name: trainonly
eval: [train]
traces: [{name: aa, builtin: bursty}]
policies: [{name: threshold, kind: threshold}]
`)
	if !bytes.Contains(md, []byte("- No test windows were evaluated (the config's eval lists train): the cost at matched SLO is read on them")) {
		t.Errorf("REPORT.md does not say the test windows are missing:\n%s", md)
	}
	if bytes.Contains(md, []byte("but the oracle")) {
		t.Errorf("REPORT.md names an oracle the config does not have:\n%s", md)
	}
	withTest := *cfg
	withTest.Eval = []string{experiments.SplitTest}
	r := &Results{Config: &withTest}
	for _, l := range r.cheapestLines(nil) {
		if !strings.HasSuffix(l, "SLO violations no family reaches the level on every seed.") {
			t.Errorf("cheapest line %q", l)
		}
	}
}

// One trace with a near-zero baseline figure does not dominate an improvement: the
// ratio is taken of the means over traces.
func TestImprovementRatioOfTraceMeans(t *testing.T) {
	r := handResults(t)
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Split != "test" || c.Trace != "a" {
			continue
		}
		switch c.Policy {
		case "threshold":
			c.Metrics["theta_o"] = 0.01 // trace a: the baseline barely over-provisions
		case "ppo":
			c.Metrics["theta_o"] = 1
		}
	}
	r = NewResults("", r.Config, r.Cells)
	// Trace b: threshold 10, ppo 6. Means: threshold (0.01+10)/2, ppo (1+6)/2.
	b, p := (0.01+10)/2, (1+6)/2.0
	want := 100 * (b - p) / b
	got := r.Improvement("ppo", "threshold", "test", "theta_o")
	if math.Abs(got.Mean-want) > 1e-9 || got.N != 3 {
		t.Fatalf("improvement %+v, want mean %.4f over 3 seeds (a mean of per-trace ratios would be %.0f)", got, want, (100*(0.01-1)/0.01+100*(10-6)/10.0)/2)
	}
}

// A policy without SLO violations on the test windows is the best on that axis: the
// Pareto plot's log scale must not drop it.
func TestParetoKeepsZeroViolations(t *testing.T) {
	h := handResults(t)
	cells := append([]experiments.CellMetrics(nil), h.Cells...)
	for i := range cells {
		if cells[i].Policy == "oracle" && cells[i].Split == experiments.SplitTest {
			m := map[string]experiments.Num{}
			for k, v := range cells[i].Metrics {
				m[k] = v
			}
			m["slo_violations"] = 0
			cells[i].Metrics = m
		}
	}
	r := NewResults("", h.Config, cells)
	dir := t.TempDir()
	p, ok, err := r.paretoPlot(dir)
	if err != nil || !ok {
		t.Fatalf("pareto: %v %v", ok, err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, p.File+".svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"threshold", "hpa-tuned", "ppo", "dqn", "oracle"} {
		if !bytes.Contains(svg, []byte(">"+name)) {
			t.Errorf("pareto plot: no label for %s", name)
		}
	}
}

// TestFormatSig: %g's significant digits, but whole numbers with thousands
// separators where %g would write an exponent for a large value.
func TestFormatSig(t *testing.T) {
	for _, c := range []struct {
		x    float64
		sig  int
		want string
	}{
		{0.0834, 3, "0.0834"},
		{974.4, 3, "974"},
		{999.6, 3, "1,000"},
		{120.4, 2, "120"},
		{0.000015, 3, "1.5e-05"},
		{1000, 3, "1,000"},
		{1079.4, 3, "1,079"},
		{-1079.6, 3, "-1,080"},
		{1234567, 3, "1,234,567"},
		{43.2, 2, "43"},
		{2e15, 3, "2e+15"},
		{math.NaN(), 3, "NaN"},
		{math.Inf(1), 3, "+Inf"},
	} {
		if got := FormatSig(c.x, c.sig); got != c.want {
			t.Errorf("FormatSig(%v, %d) = %q, want %q", c.x, c.sig, got, c.want)
		}
	}
	for x, want := range map[float64]string{24.4: "24", -0.4: "-0", 1890.6: "1,891", 602: "602", math.Inf(-1): "-Inf"} {
		if got := FormatWhole(x); got != want {
			t.Errorf("FormatWhole(%v) = %q, want %q", x, got, want)
		}
	}
	if got := FormatStat(Stat{Mean: 1068.7, CI: 43.4}); got != "1,069 ± 43" {
		t.Errorf("FormatStat: %q", got)
	}
	if got := FormatStat(Stat{Mean: 182.3, CI: 8.44}); got != "182 ± 8.4" {
		t.Errorf("FormatStat: %q", got)
	}
}

// runReport runs the experiment of config on the fake backend and returns the
// config and its REPORT.md.
func runReport(t *testing.T, config string) (*experiments.Config, []byte) {
	t.Helper()
	cfg, err := experiments.Parse([]byte(config), "fake.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := (&experiments.Runner{Config: cfg, Out: dir, Backend: fakeBackend(), Workers: 1}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := Build(dir, nil); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report", "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, md
}
