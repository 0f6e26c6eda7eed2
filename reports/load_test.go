package reports

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/experiments"
)

// fakeResults runs the experiment config on the fake backend into a temporary
// directory, checks that Load reads it, and returns the directory, its
// summary.csv's path and that file's bytes.
func fakeResults(t *testing.T, config string) (dir, summary string, whole []byte) {
	t.Helper()
	cfg, err := experiments.Parse([]byte(config), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if _, err := (&experiments.Runner{Config: cfg, Out: dir, Backend: fakeBackend(), Workers: 1}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	summary = filepath.Join(dir, "summary.csv")
	if whole, err = os.ReadFile(summary); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Fatalf("intact results: %v", err)
	}
	return dir, summary, whole
}

// TestLoadDamagedSummary: a summary.csv cut short or holding no cell is an error
// naming the file, not a report of whatever rows are left.
func TestLoadDamagedSummary(t *testing.T) {
	dir, name, whole := fakeResults(t, "name: damaged\ntraces: [{name: aa, builtin: bursty}]\npolicies: [{name: threshold, kind: threshold}, {name: oracle, kind: oracle}]\n")
	header := whole[:bytes.IndexByte(whole, '\n')+1]
	lines := bytes.Count(whole, []byte("\n"))
	for _, c := range []struct {
		name string
		text []byte
		want string
	}{
		{"cut inside the last number", whole[:len(whole)-3], name + " line " + strconv.Itoa(lines) + ": no newline at the end: the file is cut short"},
		{"header only", header, name + ": no cells, only the header"},
	} {
		if err := os.WriteFile(name, c.text, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

// TestLoadRefusesRowsOutsideTheMatrix: a summary.csv whose rows are not the cells
// of its config (a row deleted, a row of a policy, seed, trace or window the
// config does not have, a policy of another kind) is an error naming the file,
// the line and what the config lacks, not a report with a figure left out as
// undefined or one more seed averaged in.
func TestLoadRefusesRowsOutsideTheMatrix(t *testing.T) {
	dir, name, whole := fakeResults(t, "name: matrix\nseeds: [1, 2]\ntraces: [{name: aa, builtin: bursty}]\npolicies: [{name: threshold, kind: threshold}, {name: oracle, kind: oracle}]\n")
	lines := strings.SplitAfter(string(whole), "\n")
	// lines[1] is aa__threshold__1__validation: replace its identity.
	relabel := func(from, to string) string {
		return strings.Replace(string(whole), lines[1], strings.ReplaceAll(lines[1], from, to), 1)
	}
	for _, c := range []struct {
		name, text, want string
	}{
		{"row deleted", strings.Replace(string(whole), lines[2], "", 1),
			name + ": no row for 1 of the config's 8 cells (aa__oracle__1__validation)"},
		{"unknown policy", relabel("threshold", "hpa"),
			name + ` line 2: policy "hpa": not a policy of the config (threshold, oracle)`},
		{"unknown seed", strings.Replace(relabel("__1__", "__4__"), ",threshold,1,", ",threshold,4,", 1),
			name + ` line 2: seed 4: not a seed of the config (1 2)`},
		{"unknown trace", relabel("aa", "bb"),
			name + ` line 2: trace "bb": not a trace of the config (aa)`},
		{"unknown window", relabel("validation", "train"),
			name + ` line 2: split "train": not a window the config evaluates on (validation, test)`},
		{"other kind", strings.Replace(string(whole), lines[1], strings.Replace(lines[1], ",threshold,threshold,", ",threshold,hpa,", 1), 1),
			name + ` line 2: kind "hpa": policy "threshold" is of kind threshold in the config`},
	} {
		if c.text == string(whole) {
			t.Fatalf("%s: the edit changed nothing", c.name)
		}
		if err := os.WriteFile(name, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
