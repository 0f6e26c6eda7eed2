package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A policy file written before training.build existed still loads, verifies its
// checksum, and writes back byte for byte; a file with the field round-trips it, and
// the checksum covers it.
func TestBuildFieldOptional(t *testing.T) {
	old := filepath.Join("testdata", "policy-without-build.json")
	p, err := Load(old)
	if err != nil {
		t.Fatalf("file without training.build: %v", err)
	}
	if p.Training.Build != "" {
		t.Fatalf("build %q, want none", p.Training.Build)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if want := readFile(t, old); !bytes.Equal(b, want) || bytes.Contains(b, []byte(`"build"`)) {
		t.Fatal("re-encoding an old file changed its bytes")
	}

	p.Training.Build = "intelliscale v1.2.0 revision=0123abcd modified=false time=unknown go=go1.26.8"
	b, err = p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if q.Training.Build != p.Training.Build {
		t.Fatalf("build %q after a round trip, want %q", q.Training.Build, p.Training.Build)
	}
	edited := bytes.Replace(b, []byte("revision=0123abcd"), []byte("revision=ffffffff"), 1)
	if _, err := Unmarshal(edited); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("edited build: %v, want a checksum error", err)
	}
	p.Training.Build = strings.Repeat("x", MaxBuildBytes+1)
	if _, err := p.Marshal(); err == nil || !strings.Contains(err.Error(), "training.build") {
		t.Fatalf("oversized build: %v, want an error naming training.build", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
