package repo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootAndSharedTraces(t *testing.T) {
	top := t.TempDir()
	co := filepath.Join(top, "checkout")
	deep := filepath.Join(co, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(co, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Root(deep); err != nil || got != co {
		t.Fatalf("Root = %q, %v; want %q", got, err, co)
	}
	t.Setenv("INTELLISCALE_TRACES", "")
	if _, err := SharedTraces(deep); err == nil {
		t.Fatal("SharedTraces found a folder that does not exist")
	}
	want := filepath.Join(top, "shared", "traces")
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := SharedTraces(deep); err != nil || filepath.Clean(got) != want {
		t.Fatalf("SharedTraces = %q, %v; want %q", got, err, want)
	}
	t.Setenv("INTELLISCALE_TRACES", filepath.Join(top, "nowhere"))
	if _, err := SharedTraces(deep); err == nil {
		t.Fatal("SharedTraces accepted a missing INTELLISCALE_TRACES")
	}
	if _, err := Root(top); err == nil {
		t.Fatal("Root found a go.mod above a temporary directory")
	}
}
