package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

// String and Parse are inverse, whatever the build information holds (spaces in a
// value are kept one token long).
func TestStringParses(t *testing.T) {
	for _, bi := range []*debug.BuildInfo{
		{},
		{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-02T16:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}},
		{GoVersion: "go1.26.8 X:nocoverageredesign", Main: debug.Module{Version: "(devel)"}},
	} {
		in := fromBuildInfo(bi)
		line := in.String()
		got, err := Parse(line)
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		if got.String() != line {
			t.Fatalf("round trip: %q became %q", line, got.String())
		}
		if strings.Contains(line, "  ") || strings.HasSuffix(line, " ") {
			t.Fatalf("%q: stray spaces", line)
		}
	}
	in := fromBuildInfo(&debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "true"}}})
	if in.Revision != "0123456789abcdef0123456789abcdef01234567" || !in.Modified || in.Version != "v1.2.0" || in.Time != Unknown {
		t.Fatalf("fromBuildInfo: %+v", in)
	}
	if got, want := in.Short(), "v1.2.0 0123456789ab+modified"; got != want {
		t.Fatalf("Short() = %q, want %q", got, want)
	}
	// The running test binary has build information too.
	if _, err := Parse(Read().String()); err != nil {
		t.Fatal(err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, line := range []string{
		"",
		"intelliscale",
		"other v1 revision=x modified=false time=t go=g",
		"intelliscale v1 revision=x modified=maybe time=t go=g",
		"intelliscale v1 rev=x modified=false time=t go=g",
		"intelliscale v1 revision= modified=false time=t go=g",
		"intelliscale v1 revision=x modified=false time=t go=g extra",
	} {
		if _, err := Parse(line); err == nil {
			t.Errorf("Parse(%q) accepted", line)
		}
	}
}

// Record keeps one line per distinct build, in the order they wrote.
func TestRecord(t *testing.T) {
	dir := t.TempDir()
	if got, err := Lines(dir); err != nil || got != nil {
		t.Fatalf("no file: %v, %v", got, err)
	}
	for range 2 {
		if err := Record(dir); err != nil {
			t.Fatal(err)
		}
	}
	if err := RecordLines(dir, "intelliscale v2 revision=b modified=false time=t go=g", Read().String()); err != nil {
		t.Fatal(err)
	}
	got, err := Lines(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != Read().String() || got[1] != "intelliscale v2 revision=b modified=false time=t go=g" {
		t.Fatalf("lines %q", got)
	}
	for _, l := range got {
		if _, err := Parse(l); err != nil {
			t.Fatal(err)
		}
	}
}
