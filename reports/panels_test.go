package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/experiments"
)

// A plot of every seed whose cell's timeline.csv is missing (a cell directory
// removed, a damaged file) says which panels are empty, rather than leaving a blank
// panel under a caption that says every seed; an intact directory has no such note.
func TestPlotsSayWhichPanelsAreEmpty(t *testing.T) {
	dir, _, _ := fakeResults(t, "name: panels\nseeds: [1, 2]\ntraces: [{name: aa, builtin: bursty}]\npolicies: [{name: threshold, kind: threshold}, {name: oracle, kind: oracle}]\n")
	if err := Build(dir, nil); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report", "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(md), "Empty panels") {
		t.Fatalf("intact results report empty panels:\n%s", md)
	}
	if err := os.WriteFile(filepath.Join(dir, "cells", "aa__threshold__2__test", "timeline.csv"), []byte("time_s,rea"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Build(dir, nil); err != nil {
		t.Fatal(err)
	}
	md, _ = os.ReadFile(filepath.Join(dir, "report", "REPORT.md"))
	if n := strings.Count(string(md), "Empty panels: threshold seed 2 (the test cell's timeline.csv is missing or unreadable"); n != 2 {
		t.Errorf("%d notes of the empty panel, want 2 (replicas and p95 plots):\n%s", n, md)
	}
}

// The windows' lengths are read from any readable cell of the window, not only
// from the first: one damaged metrics.json does not drop a trace from the line.
func TestWindowLengthsSurviveOneDamagedCell(t *testing.T) {
	dir, _, _ := fakeResults(t, "name: lengths\nseeds: [1, 2]\ntraces: [{name: aa, builtin: bursty}]\npolicies: [{name: threshold, kind: threshold}, {name: oracle, kind: oracle}]\n")
	r, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := r.windowsLine()
	if !strings.Contains(want, "aa validation") {
		t.Fatalf("windows line of intact results: %q", want)
	}
	if err := os.WriteFile(filepath.Join(dir, "cells", r.Cells[0].Cell, "metrics.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := r.windowsLine(); got != want {
		t.Errorf("with the first cell's metrics.json damaged: %q, want %q", got, want)
	}
}

// A directory that is not a results directory, or a run interrupted before its
// summary, is named with what is missing and what to do, not a bare file error.
func TestLoadSaysWhatIsMissing(t *testing.T) {
	foreign := t.TempDir()
	if _, err := Load(foreign); err == nil || !strings.Contains(err.Error(), foreign+": no config.yaml: not a results directory") {
		t.Errorf("foreign directory: %v", err)
	}
	dir, name, _ := fakeResults(t, "name: partial\ntraces: [{name: aa, builtin: bursty}]\npolicies: [{name: threshold, kind: threshold}]\n")
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), name+": missing: the run has not finished") {
		t.Errorf("interrupted run: %v", err)
	}
}

// TestReplicaPlotDrawsSupply: the replica plot draws the time-weighted Ready count
// the elasticity figures use, and the end-of-interval count only for a timeline
// written before supply was.
func TestReplicaPlotDrawsSupply(t *testing.T) {
	supply, ready := []float64{2.5, 3}, []float64{3, 3}
	both := &experiments.Table{Columns: map[string][]float64{"supply": supply, "ready": ready}, Len: 2}
	if got := supplyColumn(both); &got[0] != &supply[0] {
		t.Errorf("with supply and ready: drew %v, want supply %v", got, supply)
	}
	old := &experiments.Table{Columns: map[string][]float64{"ready": ready}, Len: 2}
	if got := supplyColumn(old); &got[0] != &ready[0] {
		t.Errorf("without supply: drew %v, want ready %v", got, ready)
	}
	if got := supplyColumn(&experiments.Table{Columns: map[string][]float64{}}); got != nil {
		t.Errorf("with neither: %v, want nil", got)
	}
}
