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

// TestLoadDamagedSummary: a summary.csv cut short or holding no cell is an error
// naming the file, not a report of whatever rows are left.
func TestLoadDamagedSummary(t *testing.T) {
	cfg, err := experiments.Parse([]byte("name: damaged\ntraces: [{name: aa, builtin: bursty}]\npolicies: [{name: threshold, kind: threshold}, {name: oracle, kind: oracle}]\n"), "damaged.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := (&experiments.Runner{Config: cfg, Out: dir, Backend: fakeBackend(), Workers: 1}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "summary.csv")
	whole, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Fatalf("intact results: %v", err)
	}
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
