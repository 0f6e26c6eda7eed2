package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/traces"
)

// twoTraceConfig is tinyConfig(PPO) with a second trace, so that selection has two
// validation windows.
func twoTraceConfig() Config {
	c := tinyConfig(PPO)
	c.Traces = append(c.Traces, traces.Source{Synth: &traces.SynthSpec{
		Name: "tiny2", Duration: 12 * time.Hour, Bucket: time.Minute, BaseRate: 30,
		Diurnal: traces.Diurnal{Amplitude: 0.3, PeakHour: 9},
	}})
	return c
}

// selectionRow is one parsed row of selection.csv.
type selectionRow struct {
	step             int
	violations, cost float64
	eligible, chosen bool
}

func readSelection(t *testing.T, path string) []selectionRow {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(readFile(t, path))), "\n")
	if lines[0] != strings.Join(selectionColumns, ",") {
		t.Fatalf("%s: header %q", path, lines[0])
	}
	var out []selectionRow
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != len(selectionColumns) {
			t.Fatalf("%s: row %q", path, l)
		}
		var r selectionRow
		var err error
		r.step, err = strconv.Atoi(f[0])
		if err == nil {
			r.violations, err = strconv.ParseFloat(f[2], 64)
		}
		if err == nil {
			r.cost, err = strconv.ParseFloat(f[3], 64)
		}
		if err != nil {
			t.Fatalf("%s: row %q: %v", path, l, err)
		}
		r.eligible, r.chosen = f[6] == "true", f[7] == "true"
		out = append(out, r)
	}
	return out
}

// ruleFromCSV applies the selection rule to selection.csv's rows, independently of
// the code under test: eligible when every window is within budget; the cheapest
// eligible one (total cost), else the lowest worst-window violations; the earliest
// of equals.
func ruleFromCSV(rows []selectionRow, budget float64) int {
	type agg struct{ cost, worst float64 }
	var steps []int
	per := map[int]*agg{}
	for _, r := range rows {
		a := per[r.step]
		if a == nil {
			a = &agg{worst: math.Inf(-1)}
			per[r.step] = a
			steps = append(steps, r.step)
		}
		a.cost += r.cost
		a.worst = max(a.worst, r.violations)
	}
	best := -1
	for _, s := range steps {
		a := per[s]
		if best < 0 {
			best = s
			continue
		}
		b := per[best]
		ea, eb := a.worst <= budget, b.worst <= budget
		switch {
		case ea && !eb:
			best = s
		case ea && eb && a.cost < b.cost:
			best = s
		case !ea && !eb && (a.worst < b.worst || a.worst == b.worst && a.cost < b.cost):
			best = s
		}
	}
	return best
}

// TestSelectionPicksTheRulesCandidate trains with candidates at steps 512, 1024 and
// 1536 whose validation results are given (the simulation replaced), so that the
// last checkpoint is not the best: policy.json must be the candidate the rule picks
// from selection.csv, policy-last.json the last step's.
func TestSelectionPicksTheRulesCandidate(t *testing.T) {
	cases := []struct {
		name string
		// results[step][window] = violations percent, cost
		results map[int][2][2]float64
		want    int
	}{
		{"cheapest eligible, the last cheaper but over budget", map[int][2][2]float64{
			512:  {{4, 10}, {3, 12}},
			1024: {{4.9, 9}, {5, 9}},
			1536: {{5.1, 5}, {1, 5}},
		}, 1024},
		{"none eligible: the lowest worst window", map[int][2][2]float64{
			512:  {{9, 10}, {1, 10}},
			1024: {{6, 12}, {6, 12}},
			1536: {{1, 5}, {7, 5}},
		}, 1024},
		{"the first of equals", map[int][2][2]float64{
			512:  {{2, 10}, {3, 10}},
			1024: {{1, 10}, {1, 10}},
			1536: {{3, 11}, {1, 9}},
		}, 512},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := twoTraceConfig()
			cfg.Selection = SelectionConfig{Every: 512, MaxActionsVsOracle: -1}
			dir := t.TempDir()
			p, err := run(context.Background(), cfg, dir, runOptions{evaluate: func(step, i int) WindowResult {
				r, ok := tc.results[step]
				if !ok {
					t.Errorf("candidate at step %d: not a multiple of 512", step)
				}
				return WindowResult{Violations: r[i][0], Cost: r[i][1], Actions: 1}
			}})
			if err != nil {
				t.Fatal(err)
			}
			rows := readSelection(t, filepath.Join(dir, SelectionFile))
			if len(rows) != 6 {
				t.Fatalf("selection.csv: %d rows, want 3 candidates x 2 windows", len(rows))
			}
			got := ruleFromCSV(rows, 5)
			if got != tc.want {
				t.Fatalf("the rule on selection.csv picks step %d, the case says %d", got, tc.want)
			}
			for _, r := range rows {
				if r.chosen != (r.step == got) {
					t.Fatalf("selection.csv row %+v: chosen column disagrees with step %d", r, got)
				}
			}
			sel, err := policy.Load(filepath.Join(dir, PolicyFile))
			if err != nil {
				t.Fatal(err)
			}
			last, err := policy.Load(filepath.Join(dir, PolicyLastFile))
			if err != nil {
				t.Fatal(err)
			}
			if sel.Training.Steps != got || p.Checksum != sel.Checksum || last.Training.Steps != 1536 {
				t.Fatalf("policy.json at step %d (returned %s, saved %s), policy-last.json at %d: want %d and 1536",
					sel.Training.Steps, p.Checksum, sel.Checksum, last.Training.Steps, got)
			}
			if slices.Equal(sel.Network.Params, last.Network.Params) {
				t.Fatal("the selected policy has the last step's weights")
			}
			if e, err := Export(dir); err != nil || e.Checksum != sel.Checksum {
				t.Fatalf("Export of the finished run: %v, checksum %v, want policy.json's %s", err, e, sel.Checksum)
			}
		})
	}
}

// TestSelectionRuleOracleBound: a candidate over the oracle's action bound on a
// window is not eligible, so a costlier one within it wins.
func TestSelectionRuleOracleBound(t *testing.T) {
	r := rule{budget: 5, maxActions: 3, oracle: []int{10, 20}}
	flappy := candidate{Step: 1, Windows: []WindowResult{{Violations: 1, Cost: 5, Actions: 31}, {Violations: 1, Cost: 5, Actions: 20}}}
	calm := candidate{Step: 2, Windows: []WindowResult{{Violations: 1, Cost: 8, Actions: 30}, {Violations: 1, Cost: 8, Actions: 60}}}
	if r.eligible(flappy) || !r.eligible(calm) {
		t.Fatalf("eligible: flappy %t (31 > 3x10), calm %t (30 and 60 at the bound)", r.eligible(flappy), r.eligible(calm))
	}
	if got := r.choose([]candidate{flappy, calm}); got != 1 {
		t.Fatalf("choose picks %d, want the calm candidate (1)", got)
	}
	r.maxActions = -1
	if got := r.choose([]candidate{flappy, calm}); got != 0 {
		t.Fatalf("without the bound choose picks %d, want the cheaper (0)", got)
	}
}

// TestSelectionRealEvaluation: with the simulator evaluating, every candidate is in
// selection.csv, the chosen one is the rule's, and its step is policy.json's.
func TestSelectionRealEvaluation(t *testing.T) {
	cfg := twoTraceConfig()
	cfg.Selection = SelectionConfig{Every: 512}
	dir := t.TempDir()
	p, err := Run(cfg, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := readSelection(t, filepath.Join(dir, SelectionFile))
	if len(rows) != 6 {
		t.Fatalf("selection.csv: %d rows, want 3 candidates x 2 windows", len(rows))
	}
	chosen := -1
	for _, r := range rows {
		if r.chosen {
			chosen = r.step
		}
		if r.eligible {
			t.Fatalf("row %+v eligible: the tiny trace's oracle scales too little for any candidate", r)
		}
	}
	// No candidate is eligible here (the action bound), so the rule is the worst
	// window's violations, which ruleFromCSV computes from the file.
	if want := ruleFromCSV(rows, -1); chosen != want || p.Training.Steps != want {
		t.Fatalf("chosen step %d, policy.json's %d, the rule's %d", chosen, p.Training.Steps, want)
	}
	// Selection off writes neither file, and keeps the configuration hash.
	off := twoTraceConfig()
	d2 := t.TempDir()
	if _, err := Run(off, d2, nil); err != nil {
		t.Fatal(err)
	}
	if exists(filepath.Join(d2, SelectionFile)) || exists(filepath.Join(d2, PolicyLastFile)) {
		t.Fatal("a run without selection wrote selection files")
	}
	if strings.Contains(string(readFile(t, filepath.Join(d2, ConfigFile))), "selection") {
		t.Fatal("config.yaml of a run without selection mentions it")
	}
}

// TestSelectionStopsOnCancel: a cancelled context stops the selection's simulations
// (the oracle runs before the first update) with the context's error.
func TestSelectionStopsOnCancel(t *testing.T) {
	cfg := twoTraceConfig()
	cfg.Selection = SelectionConfig{Every: 512}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RunContext(ctx, cfg, t.TempDir(), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestSelectionConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"selection: {every: -5}", "selection.every"},
		{"selection: {every: 100, fidelity: exact}", "selection.fidelity"},
		{"selection: {fidelity: fluid}", "selection: fidelity or max_actions_vs_oracle set but every is 0"},
		{"selection: {every: 100, bogus: 1}", "bogus"},
	} {
		_, err := DecodeConfig(strings.NewReader("algorithm: ppo\n"+tc.yaml+"\n"), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.yaml, err, tc.want)
		}
	}
	c, err := DecodeConfig(strings.NewReader("algorithm: dqn\nselection: {every: 100}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Selection != (SelectionConfig{Every: 100, Fidelity: "request", MaxActionsVsOracle: 3}) {
		t.Fatalf("defaults %+v", c.Selection)
	}
	// Selection and its settings are part of the hash.
	a, b := tinyConfig(DQN), tinyConfig(DQN)
	b.Selection = SelectionConfig{Every: 300}
	for _, c := range []*Config{&a, &b} {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := c.Resolve(); err != nil {
			t.Fatal(err)
		}
	}
	ha, _ := a.Hash()
	hb, _ := b.Hash()
	b.Validation[0].Sim.Seed++
	hc, _ := b.Hash()
	if ha == hb || hb == hc {
		t.Fatalf("hashes %s, %s, %s: selection and the validation seed must change it", ha, hb, hc)
	}
	if len(a.Validation) != 0 || len(b.Validation) != 1 || b.Validation[0].Offset != 12*time.Hour*8/10 {
		t.Fatalf("validation windows: off %d, on %d (offset %v, want the train part's 9.6h)", len(a.Validation), len(b.Validation), b.Validation[0].Offset)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestSummarySaysWhatRan: the final message gives the steps and episodes trained,
// with selection on the selected candidate's step beside them (not in their place),
// and the budget when PPO's whole updates fell short of it.
func TestSummarySaysWhatRan(t *testing.T) {
	for _, c := range []struct {
		steps int
		every int
		want  string
	}{
		{1536, 512, "trained ppo for 1536 steps (%d episodes); selection chose the candidate at step 512"},
		{1700, 512, "trained ppo for 1536 steps, of the 1700 asked: whole updates only (%d episodes); selection chose the candidate at step 512"},
		{1700, 0, "trained ppo for 1536 steps, of the 1700 asked: whole updates only (%d episodes)"},
	} {
		cfg := twoTraceConfig()
		cfg.Steps = c.steps
		if c.every > 0 {
			cfg.Selection = SelectionConfig{Every: c.every, MaxActionsVsOracle: -1}
		}
		dir := t.TempDir()
		p, err := run(context.Background(), cfg, dir, runOptions{evaluate: func(step, i int) WindowResult {
			if step == 512 {
				return WindowResult{Violations: 1, Cost: 1, Actions: 1}
			}
			return WindowResult{Violations: 1, Cost: 2, Actions: 1}
		}})
		if err != nil {
			t.Fatal(err)
		}
		last := p
		if c.every > 0 {
			if last, err = policy.Load(filepath.Join(dir, PolicyLastFile)); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := Summary(dir, cfg, p), fmt.Sprintf(c.want, last.Training.Episodes); got != want {
			t.Errorf("steps %d, selection every %d: %q, want %q", c.steps, c.every, got, want)
		}
	}
}
