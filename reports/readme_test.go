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

func TestUpdateReadmeCutsAtTheLead(t *testing.T) {
	root := t.TempDir()
	res := filepath.Join(root, "results")
	rep := filepath.Join(res, "report")
	must(t, os.MkdirAll(rep, 0o755))
	report := "# Experiment x\n\n## Lead\n\n![F](frontier.png)\n\n(SVG: [frontier.svg](frontier.svg))\n\n" + ReadmeCut + "\n\n## Rest\n\n![T](timeline.png)\n"
	must(t, os.WriteFile(filepath.Join(rep, "REPORT.md"), []byte(report), 0o644))
	must(t, os.WriteFile(filepath.Join(rep, "frontier.png"), []byte("F"), 0o644))
	must(t, os.WriteFile(filepath.Join(rep, "timeline.png"), []byte("T"), 0o644))
	readme := filepath.Join(root, "README.md")
	must(t, os.WriteFile(readme, []byte(ReadmeBegin+"\n"+ReadmeEnd+"\n"), 0o644))
	if err := UpdateReadme(readme, res, filepath.Join(root, "docs", "bench")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(readme)
	want := ReadmeBegin + "\n### Lead\n\n![F](docs/bench/frontier.png)\n\nThe full report, with every table and every seed's timelines: [docs/bench/REPORT.md](docs/bench/REPORT.md).\n\n" + ReadmeEnd + "\n"
	if string(got) != want {
		t.Fatalf("README:\n%s\nwant:\n%s", got, want)
	}
	full, err := os.ReadFile(filepath.Join(root, "docs", "bench", "REPORT.md"))
	if err != nil || strings.Contains(string(full), "SVG") || strings.Contains(string(full), ReadmeCut) || !strings.Contains(string(full), "## Rest") {
		t.Fatalf("full report copy: %v\n%s", err, full)
	}
	if b, err := os.ReadFile(filepath.Join(root, "docs", "bench", "timeline.png")); err != nil || string(b) != "T" {
		t.Fatalf("the full report's figure not copied: %q, %v", b, err)
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
