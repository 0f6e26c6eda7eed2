package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateReadme(t *testing.T) {
	root := t.TempDir()
	res := filepath.Join(root, "results")
	rep := filepath.Join(res, "report")
	if err := os.MkdirAll(rep, 0o755); err != nil {
		t.Fatal(err)
	}
	report := "# Experiment x\n\nIntro.\n\n## Headline\n\n| a |\n\n## Plots\n\n### Pareto\n\n![Pareto](pareto.png)\n\n(SVG: [pareto.svg](pareto.svg))\n"
	must(t, os.WriteFile(filepath.Join(rep, "REPORT.md"), []byte(report), 0o644))
	must(t, os.WriteFile(filepath.Join(rep, "pareto.png"), []byte("PNG"), 0o644))
	readme := filepath.Join(root, "README.md")
	must(t, os.WriteFile(readme, []byte("# P\n\nbefore\n"+ReadmeBegin+"\nstale\n"+ReadmeEnd+"\nafter\n"), 0o644))

	if err := UpdateReadme(readme, res, filepath.Join(root, "docs", "bench")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(readme)
	want := "# P\n\nbefore\n" + ReadmeBegin + "\nIntro.\n\n### Headline\n\n| a |\n\n### Plots\n\n#### Pareto\n\n![Pareto](docs/bench/pareto.png)\n\n\n" + ReadmeEnd + "\nafter\n"
	if string(got) != want {
		t.Fatalf("README:\n%s\nwant:\n%s", got, want)
	}
	if b, err := os.ReadFile(filepath.Join(root, "docs", "bench", "pareto.png")); err != nil || string(b) != "PNG" {
		t.Fatalf("figure not copied: %q, %v", b, err)
	}
	// Regenerating gives the same bytes.
	if err := UpdateReadme(readme, res, filepath.Join(root, "docs", "bench")); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(readme); string(again) != want {
		t.Fatalf("second update changed the README:\n%s", again)
	}
}

func TestUpdateReadmeWithoutMarkers(t *testing.T) {
	root := t.TempDir()
	rep := filepath.Join(root, "results", "report")
	must(t, os.MkdirAll(rep, 0o755))
	must(t, os.WriteFile(filepath.Join(rep, "REPORT.md"), []byte("# E\n"), 0o644))
	readme := filepath.Join(root, "README.md")
	must(t, os.WriteFile(readme, []byte("# P\nno markers\n"), 0o644))
	err := UpdateReadme(readme, filepath.Join(root, "results"), filepath.Join(root, "fig"))
	if err == nil || !strings.Contains(err.Error(), "no generated section") {
		t.Fatalf("err = %v, want no generated section", err)
	}
	if b, _ := os.ReadFile(readme); string(b) != "# P\nno markers\n" {
		t.Fatalf("README changed: %q", b)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
