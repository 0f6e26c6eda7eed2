package traces

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedTraces returns the folder of real public traces: $INTELLISCALE_TRACES, or
// ../shared/traces beside the repository root. It skips the test when absent.
func sharedTraces(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("INTELLISCALE_TRACES"); d != "" {
		if _, err := os.Stat(d); err != nil {
			t.Skipf("INTELLISCALE_TRACES=%s: %v", d, err)
		}
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory, so no ../shared/traces to read")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "traces")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("real traces not present (%v); set INTELLISCALE_TRACES to run this test", err)
	}
	return d
}

// sumColumn sums column col of a CSV file with a header, independently of LoadCSV.
func sumColumn(t *testing.T, path string, col int) (sum float64, rows int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, l := range lines[1:] {
		f := strings.Split(strings.TrimSpace(l), ",")
		var v float64
		if _, err := fmt.Sscan(f[col], &v); err != nil {
			t.Fatalf("%s: %q: %v", path, l, err)
		}
		sum += v
		rows++
	}
	return sum, rows
}

func approxEq(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))
}
