package experiments

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// writeCDF writes a latency distribution as latency_cdf.csv (seconds, fraction).
func writeCDF(w io.Writer, pts []CDFPoint) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"seconds", "fraction"})
	for _, p := range pts {
		cw.Write([]string{FormatFloat(p.Seconds), FormatFloat(p.Fraction)})
	}
	cw.Flush()
	return cw.Error()
}

// Table is a CSV file read as columns of numbers by header name.
type Table struct {
	Columns map[string][]float64
	Len     int
}

// ReadTable reads a CSV file with a header row and numeric cells ("NaN" and empty
// cells read as NaN).
func ReadTable(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	t := &Table{Columns: map[string][]float64{}, Len: len(rows) - 1}
	for j, h := range rows[0] {
		col := make([]float64, 0, len(rows)-1)
		for i, row := range rows[1:] {
			if j >= len(row) || row[j] == "" {
				col = append(col, math.NaN())
				continue
			}
			v, err := strconv.ParseFloat(row[j], 64)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %s: %w", path, i+2, h, err)
			}
			col = append(col, v)
		}
		t.Columns[h] = col
	}
	return t, nil
}
