package experiments

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// editCSV parses a CSV, lets edit change its records (header first) and writes it back.
func editCSV(t *testing.T, data []byte, edit func([][]string) [][]string) []byte {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(edit(recs)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// setField sets column col of record row (1 is the first after the header).
func setField(col string, row int, v string) func([][]string) [][]string {
	return func(recs [][]string) [][]string {
		recs[row][slices.Index(recs[0], col)] = v
		return recs
	}
}

// TestReadSummaryRefusesDamage: a summary.csv holding what the runner cannot write
// (a figure out of its range, a cell twice, a cell name not of its row, a metric
// column missing) is an error naming the file, the line and the column; the
// undefined figures the runner does write (NaN latency quantiles) and legitimate
// extremes (over-provisioning above 100%) are read.
func TestReadSummaryRefusesDamage(t *testing.T) {
	out := t.TempDir()
	runTiny(t, &fakeBackend{}, out, nil)
	whole, err := os.ReadFile(filepath.Join(out, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ReadSummary(bytes.NewReader(whole), "summary.csv")
	if err != nil {
		t.Fatalf("the runner's own summary: %v", err)
	}
	if !math.IsNaN(float64(rows[0].Metrics["time_to_meet_demand_seconds"])) {
		t.Fatal("the fake backend no longer writes an undefined figure: the test lost its NaN case")
	}
	for _, c := range []struct {
		name string
		edit func([][]string) [][]string
		want string // "" means accepted
	}{
		{"negative cost", setField("cost", 3, "-3"), `summary.csv line 4: cost "-3": must be >= 0`},
		{"undefined cost", setField("cost", 3, "NaN"), `summary.csv line 4: cost "NaN": must be defined`},
		{"infinite cost", setField("cost", 3, "+Inf"), `summary.csv line 4: cost "+Inf": must be finite`},
		{"huge cost", setField("cost", 3, "1e300"), `summary.csv line 4: cost "1e300": must be finite and at most 1e+150`},
		{"not a number", setField("cost", 3, "cheap"), `summary.csv line 4: cost "cheap": not a number`},
		{"violations above 100%", setField("slo_violations", 2, "150"), `summary.csv line 3: slo_violations "150": must be in [0, 100] (percent)`},
		{"negative accuracy", setField("accuracy", 2, "-1"), `summary.csv line 3: accuracy "-1": must be >= 0`},
		{"fractional count", setField("scaling_actions", 5, "2.5"), `summary.csv line 6: scaling_actions "2.5": must be a whole number`},
		{"negative count", setField("scaling_actions", 5, "-2"), `summary.csv line 6: scaling_actions "-2": must be >= 0`},
		{"duplicated row", func(r [][]string) [][]string { return append(r, r[7]) }, "summary.csv line " + strconv.Itoa(len(rows)+2) + ": cell " + rows[6].Cell + ": a second row (the first is line 8)"},
		{"cost column renamed", setField("cost", 0, "costs"), `summary.csv line 1: column "cost" missing`},
		{"metric column dropped", func(r [][]string) [][]string {
			i := slices.Index(r[0], "drop_rate")
			for k := range r {
				r[k] = slices.Delete(r[k], i, i+1)
			}
			return r
		}, `summary.csv line 1: column "drop_rate" missing`},
		{"cell not of its row", setField("seed", 2, "2"), `summary.csv line 3: cell "` + rows[1].Cell + `": its row is of trace`},
		{"undefined latency", setField("p95_seconds", 2, "NaN"), ""},
		{"over-provisioning above 100%", setField("theta_o", 2, "250"), ""},
		{"a share at 100%", setField("slo_violations", 2, "100"), ""},
	} {
		data := editCSV(t, whole, c.edit)
		_, err := ReadSummary(bytes.NewReader(data), "summary.csv")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
