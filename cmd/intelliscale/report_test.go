package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/reports"
)

// report --readme-section fills its own section of the README from a results
// directory, the figures beside it in docs/NAME, and leaves the bench section alone;
// a bad name or a README without the section fails before any work.
func TestReportReadmeSection(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile("e.yaml", []byte(tinyExperiment), 0o644))
	if code, _, stderr := runCmd("experiment", "run", "--quiet", "--config", "e.yaml", "--out", "res"); code != 0 {
		t.Fatalf("experiment run: exit %d\n%s", code, stderr)
	}
	realBegin, realEnd := reports.ReadmeMarkers("bench-real")
	bench := "# P\n\n" + reports.ReadmeBegin + "\nthe bench section\n" + reports.ReadmeEnd + "\n\n### Real\n\n"
	must(os.WriteFile("README.md", []byte(bench+realBegin+"\n"+realEnd+"\n"), 0o644))

	var first string
	for i := range 2 {
		code, _, stderr := runCmd("report", "--quiet", "--readme", "README.md", "--readme-section", "bench-real", "res")
		if code != 0 {
			t.Fatalf("report: exit %d\n%s", code, stderr)
		}
		got, _ := os.ReadFile("README.md")
		if !strings.HasPrefix(string(got), bench+realBegin+"\n") || !strings.HasSuffix(string(got), "\n"+realEnd+"\n") {
			t.Fatalf("README outside the bench-real section changed:\n%s", got)
		}
		if !strings.Contains(string(got), "](docs/bench-real/frontier.png)") || !strings.Contains(string(got), "[docs/bench-real/REPORT.md]") {
			t.Fatalf("bench-real section does not link its figures in docs/bench-real:\n%s", got)
		}
		if i == 0 {
			first = string(got)
		} else if string(got) != first {
			t.Fatalf("second report changed the README:\n%s\nfirst:\n%s", got, first)
		}
	}
	for _, f := range []string{"docs/bench-real/frontier.png", "docs/bench-real/REPORT.md"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("figure: %v", err)
		}
	}
	if _, err := os.Stat("docs/bench"); !os.IsNotExist(err) {
		t.Errorf("docs/bench written for the bench-real section: %v", err)
	}

	// A README that is a symbolic link (to a file in another directory) is updated
	// through it: the link stays a link, its target holds the section.
	shared := t.TempDir()
	must(os.WriteFile(filepath.Join(shared, "README.md"), []byte(bench+realBegin+"\n"+realEnd+"\n"), 0o644))
	if err := os.Symlink(filepath.Join(shared, "README.md"), "LINKED.md"); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
	if code, _, stderr := runCmd("report", "--quiet", "--readme", "LINKED.md", "--readme-section", "bench-real", "res"); code != 0 {
		t.Fatalf("report --readme LINKED.md: exit %d\n%s", code, stderr)
	}
	if fi, err := os.Lstat("LINKED.md"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("LINKED.md is no longer a symbolic link (%v)", err)
	}
	if got, _ := os.ReadFile(filepath.Join(shared, "README.md")); string(got) != first {
		t.Fatalf("the link's target:\n%s\nwant what README.md got:\n%s", got, first)
	}
	if ents, _ := os.ReadDir(shared); len(ents) != 1 {
		t.Errorf("%d files beside the target, want 1 (no temporary left)", len(ents))
	}

	// Refusals: exit 1, a message naming the flag or the README, nothing written.
	must(os.Remove(filepath.Join("res", "report", "REPORT.md")))
	must(os.WriteFile("OTHER.md", []byte(bench), 0o644))
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"bad name", []string{"--readme", "README.md", "--readme-section", "Bench-Real"}, []string{"--readme-section", `"Bench-Real"`}},
		{"no such section", []string{"--readme", "OTHER.md", "--readme-section", "bench-real"}, []string{"OTHER.md", `no generated section "bench-real"`, realBegin, realEnd}},
		{"section without readme", []string{"--readme-section", "bench-real"}, []string{"--readme-section", "need --readme"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			readme, _ := os.ReadFile("README.md")
			other, _ := os.ReadFile("OTHER.md")
			code, _, stderr := runCmd(append(append([]string{"report", "--quiet"}, c.args...), "res")...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if b, _ := os.ReadFile("README.md"); string(b) != string(readme) {
				t.Error("README.md changed")
			}
			if b, _ := os.ReadFile("OTHER.md"); string(b) != string(other) {
				t.Error("OTHER.md changed")
			}
			if _, err := os.Stat(filepath.Join("res", "report", "REPORT.md")); !os.IsNotExist(err) {
				t.Errorf("the report was rebuilt before the refusal: %v", err)
			}
		})
	}
}
