package traces

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/internal/repo"
)

// sharedTraces returns the folder of real public traces: $INTELLISCALE_TRACES, or
// ../shared/traces beside the repository root. It skips the test when absent.
func sharedTraces(t testing.TB) string {
	t.Helper()
	d, err := repo.SharedTraces(".")
	if err != nil {
		t.Skip(err)
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

// writeIn writes data to dir/name and returns the path.
func writeIn(t testing.TB, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
