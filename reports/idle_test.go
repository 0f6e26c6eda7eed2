package reports

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/experiments"
)

// A test window without requests (a trace cropped into an outage) counts 0%
// violations under every policy. The report must not present that as compliance:
// the per-trace table says "no requests" and the matched-SLO lines say that the
// levels are diluted by it (or, every window idle, measure nothing).
func TestIdleTestWindowIsNotCompliance(t *testing.T) {
	dir, name, whole := fakeResults(t, "name: idle\nseeds: [1, 2]\ntraces: [{name: aa, builtin: bursty}, {name: bb, builtin: step}]\npolicies: [{name: threshold, kind: threshold}, {name: oracle, kind: oracle}]\n")
	lines := strings.Split(string(whole), "\n")
	head := strings.Split(lines[0], ",")
	col := func(c string) int {
		for i, h := range head {
			if h == c {
				return i
			}
		}
		t.Fatalf("summary.csv has no column %s", c)
		return -1
	}
	p50, viol, drop := col("p50_seconds"), col("slo_violations"), col("drop_rate")
	idle := func(trace string) {
		for i, l := range lines {
			f := strings.Split(l, ",")
			if i == 0 || len(f) < len(head) || f[1] != trace || f[5] != "test" {
				continue
			}
			for _, c := range []string{"p50_seconds", "p95_seconds", "p99_seconds"} {
				f[col(c)] = "NaN"
			}
			f[p50], f[viol], f[drop] = "NaN", "0", "0"
			lines[i] = strings.Join(f, ",")
		}
		if err := os.WriteFile(name, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	report := func() string {
		t.Helper()
		if err := Build(dir, nil); err != nil {
			t.Fatal(err)
		}
		md, err := os.ReadFile(filepath.Join(dir, "report", "REPORT.md"))
		if err != nil {
			t.Fatal(err)
		}
		return string(md)
	}
	if md := report(); strings.Contains(md, "no requests") {
		t.Fatalf("windows with traffic reported as without:\n%s", md)
	}
	idle("bb")
	md := report()
	for _, want := range []string{
		"| threshold | ", " | no requests |",
		"But the test window of trace bb had no requests (none completed or was dropped under any policy on any seed): it counts as 0% violations in the mean over traces",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("one idle test window: report lacks %q:\n%s", want, md)
		}
	}
	idle("aa")
	if md := report(); !strings.Contains(md, "But the test windows of traces aa and bb had no requests (none completed or was dropped under any policy on any seed): every policy counts 0% violations there, so the levels above measure nothing") {
		t.Errorf("every test window idle: report does not say the levels measure nothing:\n%s", md)
	}
}

// A fold whose held-out part had no requests, or no violations figure, is said so
// in words, not as +Inf.
func TestFoldWithoutFigureIsWords(t *testing.T) {
	cfg, err := experiments.Parse([]byte("name: folds\ntraces: [{name: aa, builtin: bursty}, {name: bb, builtin: step}]\npolicies: [{name: threshold, kind: threshold}]\n"), "folds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := &Results{Config: cfg}
	c := Choice{Target: 5, Margin: 1, Checks: []MarginCheck{{Margin: 1, Folds: []Fold{
		{HeldOut: "aa", Variant: "threshold", Worst: math.Inf(1), Idle: true},
		{HeldOut: "bb", Variant: "threshold", Worst: math.Inf(1)},
	}}}}
	tab := r.transferTable(c)
	row := strings.Join(tab.Rows[0], " | ")
	if strings.Contains(row, "Inf") || !strings.Contains(row, "threshold: no requests, nothing checked") || !strings.Contains(row, "threshold: no figure ✗") {
		t.Errorf("fold row: %s", row)
	}
}

// Without test windows (eval lacks test) the test tables say "not evaluated", not
// "not reached" or "none", which would say a level or the target was missed; the
// cost at matched SLO is read on the validation windows instead, and says so.
func TestTestTablesWithoutTestWindows(t *testing.T) {
	dir, _, _ := fakeResults(t, "name: notest\neval: [validation]\nseeds: [1, 2]\ntraces: [{name: aa, builtin: bursty}]\npolicies: [{name: threshold, kind: threshold}, {name: oracle, kind: oracle}]\n")
	if err := Build(dir, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report", "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	// ("not reached" may be said: of a level on the validation windows.)
	for _, bad := range []string{"n/a (no point meets the target)", "| threshold | n/a |\n"} {
		if strings.Contains(md, bad) {
			t.Errorf("report without test windows says %q:\n%s", bad, md)
		}
	}
	for _, want := range []string{"| threshold | not evaluated |\n", "| oracle | not evaluated |  |  |",
		"### Cost at matched SLO, validation windows (",
		"- No test windows were evaluated (the config's eval lists validation): the cost at matched SLO is read on the validation windows, where choices are made"} {
		if !strings.Contains(md, want) {
			t.Errorf("report without test windows lacks %q", want)
		}
	}
	// The matched table holds the validation figures, in a file named for them.
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, m := range r.MatchedSLO(experiments.SplitValidation) {
		if m.OK() {
			read++
			if cell := FormatStat(m.Cost) + " (" + FormatSig(m.Worst, 3) + ")"; !strings.Contains(md, cell) {
				t.Errorf("%s at %g%%: the validation figure %s is not in the report", m.Policy, m.Level, cell)
			}
		}
	}
	if read == 0 {
		t.Fatal("no family reaches a level on validation: nothing checked")
	}
	if strings.Contains(md, "| threshold | not evaluated | not evaluated") {
		t.Error("the matched table says not evaluated where the validation windows were")
	}
	if _, err := os.Stat(filepath.Join(dir, "matched_slo_validation.csv")); err != nil {
		t.Errorf("matched_slo_validation.csv: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "matched_slo.csv")); err == nil {
		t.Error("matched_slo.csv written from validation figures: its name says test windows")
	}
}
