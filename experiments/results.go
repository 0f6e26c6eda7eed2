package experiments

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/internal/atomicfile"
)

// Num is a float64 that encodes NaN and infinities as JSON null (and decodes null as
// NaN), so that undefined figures survive a round trip through metrics.json.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(f, 'g', -1, 64)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("number %s: %w", b, err)
	}
	*n = Num(f)
	return nil
}

// metric is one figure of a run's summary, as named in metrics.json and summary.csv.
type metric struct {
	Name string
	Get  func(*elasticity.Summary) float64
}

// metrics lists the figures of an evaluation cell in column order. Percentages are in
// [0, 100]; durations in seconds; cost in cost units (replica-hours by default).
var metrics = []metric{
	{"theta_u", func(s *elasticity.Summary) float64 { return s.ThetaU }},
	{"theta_o", func(s *elasticity.Summary) float64 { return s.ThetaO }},
	{"tau_u", func(s *elasticity.Summary) float64 { return s.TauU }},
	{"tau_o", func(s *elasticity.Summary) float64 { return s.TauO }},
	{"instability", func(s *elasticity.Summary) float64 { return s.Instability }},
	{"scaling_actions", func(s *elasticity.Summary) float64 { return float64(s.ScalingActions) }},
	{"under_provision_seconds", func(s *elasticity.Summary) float64 { return s.UnderProvisionSeconds }},
	{"time_to_meet_demand_seconds", func(s *elasticity.Summary) float64 { return s.TimeToMeetDemand }},
	{"accuracy", func(s *elasticity.Summary) float64 { return s.Accuracy }},
	{"slo_violations", func(s *elasticity.Summary) float64 { return s.SLOViolations }},
	{"drop_rate", func(s *elasticity.Summary) float64 { return s.DropRate }},
	{"p50_seconds", func(s *elasticity.Summary) float64 { return s.P50 }},
	{"p95_seconds", func(s *elasticity.Summary) float64 { return s.P95 }},
	{"p99_seconds", func(s *elasticity.Summary) float64 { return s.P99 }},
	{"cost", func(s *elasticity.Summary) float64 { return s.Cost }},
}

// CellMetrics is the content of an evaluation cell's metrics.json.
type CellMetrics struct {
	Cell   string `json:"cell"`
	Trace  string `json:"trace"`
	Policy string `json:"policy"`
	Kind   string `json:"kind"`
	Seed   uint64 `json:"seed"`
	Split  string `json:"split"`
	// SimSeed is the simulator seed, derived from the seed, trace and window only, so
	// that every policy sees the same arrivals (common random numbers).
	SimSeed uint64 `json:"sim_seed"`
	// WindowStart and WindowEnd are the window's offsets in the trace, seconds.
	WindowStart float64 `json:"window_start_seconds"`
	WindowEnd   float64 `json:"window_end_seconds"`
	// Tuned is the parameter chosen by the tuning cell (hpa-tuned only).
	Tuned *TunedValue `json:"tuned,omitempty"`
	// Metrics holds every figure of metrics by name.
	Metrics map[string]Num `json:"metrics"`
}

// TunedValue is the outcome of a grid search, kept in tune/<policy>__<trace>/chosen.json.
type TunedValue struct {
	Param string `json:"param"`
	Value Num    `json:"value"`
	// Qualified is false when no grid value met the SLO on the training window, so
	// the value with the fewest SLO violations was chosen instead.
	Qualified bool `json:"qualified"`
}

// summaryColumns are the leading columns of summary.csv; metrics follow.
var summaryColumns = []string{"cell", "trace", "policy", "kind", "seed", "split"}

// FormatFloat renders a figure for CSV: shortest exact form, "NaN" when undefined.
func FormatFloat(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// writeSummary writes summary.csv: one row per cell with all metrics, in the order given.
func writeSummary(w io.Writer, cells []CellMetrics) error {
	cw := csv.NewWriter(w)
	head := append([]string(nil), summaryColumns...)
	for _, m := range metrics {
		head = append(head, m.Name)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, c := range cells {
		row := []string{c.Cell, c.Trace, c.Policy, c.Kind, strconv.FormatUint(c.Seed, 10), c.Split}
		for _, m := range metrics {
			v, ok := c.Metrics[m.Name]
			if !ok {
				v = Num(math.NaN())
			}
			row = append(row, FormatFloat(float64(v)))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadSummary reads a summary.csv written by writeSummary.
func ReadSummary(r io.Reader, name string) ([]CellMetrics, error) {
	cr := csv.NewReader(r)
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty", name)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range summaryColumns {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%s line 1: column %q missing", name, h)
		}
	}
	var out []CellMetrics
	for li, row := range rows[1:] {
		seed, err := strconv.ParseUint(row[col["seed"]], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: seed: %w", name, li+2, err)
		}
		c := CellMetrics{Cell: row[col["cell"]], Trace: row[col["trace"]], Policy: row[col["policy"]], Kind: row[col["kind"]], Seed: seed, Split: row[col["split"]], Metrics: map[string]Num{}}
		for _, m := range metrics {
			i, ok := col[m.Name]
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(row[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %s: %w", name, li+2, m.Name, err)
			}
			c.Metrics[m.Name] = Num(f)
		}
		out = append(out, c)
	}
	return out, nil
}

// readCellMetrics reads one metrics.json.
func readCellMetrics(path string) (*CellMetrics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m CellMetrics
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeFileAtomic writes data to path through a temporary file and a rename, so that
// path holds either its old content or all of data.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}

// doneMarker is the file whose presence marks a cell directory as finished.
const doneMarker = "done"

// isDone reports whether the cell directory dir holds a finished result.
func isDone(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, doneMarker))
	return err == nil
}
