package experiments

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
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

// metric is one figure of a run's summary, as named in metrics.json and summary.csv,
// with the values it can take: every figure is >= 0.
type metric struct {
	Name string
	Get  func(*elasticity.Summary) float64
	// Max is the largest value (100 for a share in percent); 0 means no bound
	// but MaxFigure.
	Max float64
	// Count marks a whole number.
	Count bool
	// Undefined marks a figure that may be NaN: undefined for some runs (a
	// latency quantile where nothing completed, a mean over no episodes).
	Undefined bool
}

// MaxFigure bounds the magnitude of every figure ReadSummary accepts: no run
// comes near it, and beyond it the squares the reports' statistics take
// overflow to infinity.
const MaxFigure = 1e150

// metrics lists the figures of an evaluation cell in column order. Percentages are in
// [0, 100] (theta_o, over-provisioning as a share of demand, may exceed 100);
// durations in seconds; cost in cost units (replica-hours by default).
var metrics = []metric{
	{Name: "theta_u", Get: func(s *elasticity.Summary) float64 { return s.ThetaU }, Max: 100},
	{Name: "theta_o", Get: func(s *elasticity.Summary) float64 { return s.ThetaO }},
	{Name: "tau_u", Get: func(s *elasticity.Summary) float64 { return s.TauU }, Max: 100},
	{Name: "tau_o", Get: func(s *elasticity.Summary) float64 { return s.TauO }, Max: 100},
	{Name: "instability", Get: func(s *elasticity.Summary) float64 { return s.Instability }, Max: 100},
	{Name: "scaling_actions", Get: func(s *elasticity.Summary) float64 { return float64(s.ScalingActions) }, Count: true},
	{Name: "under_provision_seconds", Get: func(s *elasticity.Summary) float64 { return s.UnderProvisionSeconds }, Undefined: true},
	{Name: "time_to_meet_demand_seconds", Get: func(s *elasticity.Summary) float64 { return s.TimeToMeetDemand }, Undefined: true},
	{Name: "accuracy", Get: func(s *elasticity.Summary) float64 { return s.Accuracy }, Max: 100},
	{Name: "slo_violations", Get: func(s *elasticity.Summary) float64 { return s.SLOViolations }, Max: 100},
	{Name: "drop_rate", Get: func(s *elasticity.Summary) float64 { return s.DropRate }, Max: 100},
	{Name: "p50_seconds", Get: func(s *elasticity.Summary) float64 { return s.P50 }, Undefined: true},
	{Name: "p95_seconds", Get: func(s *elasticity.Summary) float64 { return s.P95 }, Undefined: true},
	{Name: "p99_seconds", Get: func(s *elasticity.Summary) float64 { return s.P99 }, Undefined: true},
	{Name: "cost", Get: func(s *elasticity.Summary) float64 { return s.Cost }},
}

// check returns why v cannot be a value of m, or nil. A share may pass 100 by
// a rounding error of its sum.
func (m metric) check(v float64) error {
	switch {
	case math.IsNaN(v) && m.Undefined:
		return nil
	case math.IsNaN(v):
		return errors.New("must be defined: every run has this figure")
	case math.IsInf(v, 0) || math.Abs(v) > MaxFigure:
		return fmt.Errorf("must be finite and at most %g", MaxFigure)
	case v < 0:
		return errors.New("must be >= 0")
	case m.Max > 0 && v > m.Max*(1+1e-9):
		return fmt.Errorf("must be in [0, %g] (percent)", m.Max)
	case m.Count && v != math.Trunc(v):
		return errors.New("must be a whole number (a count)")
	}
	return nil
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
	// that every policy runs with the same seed (its draws follow the events, so they
	// part once two policies' decisions differ).
	SimSeed uint64 `json:"sim_seed"`
	// WindowStart and WindowEnd are the window's offsets in the trace, seconds.
	WindowStart float64 `json:"window_start_seconds"`
	WindowEnd   float64 `json:"window_end_seconds"`
	// Tuned is the parameter chosen by the tuning cell (hpa-tuned only).
	Tuned *TunedValue `json:"tuned,omitempty"`
	// Metrics holds every figure of metrics by name.
	Metrics map[string]Num `json:"metrics"`
	// Line is the cell's row in the summary.csv ReadSummary read it from; 0
	// otherwise.
	Line int `json:"-"`
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

// summaryHeader is the header of summary.csv: summaryColumns, then every metric.
func summaryHeader() []string {
	head := append([]string(nil), summaryColumns...)
	for _, m := range metrics {
		head = append(head, m.Name)
	}
	return head
}

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
	if err := cw.Write(summaryHeader()); err != nil {
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

// ReadSummary reads a summary.csv written by writeSummary, refusing, with the
// file (name), line and column, what that cannot have written: a missing column,
// a figure out of its range (metric.check), a cell name not made of its row's
// trace, policy, seed and split, or a second row for the same cell.
func ReadSummary(r io.Reader, name string) ([]CellMetrics, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range summaryHeader() {
		if _, ok := col[h]; !ok {
			return nil, fmt.Errorf("%s line 1: column %q missing", name, h)
		}
	}
	var out []CellMetrics
	seen := map[string]int{} // cell name -> line
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		seed, err := strconv.ParseUint(row[col["seed"]], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: seed: %w", name, line, err)
		}
		c := CellMetrics{Cell: row[col["cell"]], Trace: row[col["trace"]], Policy: row[col["policy"]], Kind: row[col["kind"]], Seed: seed, Split: row[col["split"]], Metrics: map[string]Num{}, Line: line}
		id := Cell{Phase: PhaseEval, Policy: c.Policy, Trace: c.Trace, Seed: c.Seed, Split: c.Split}.Name()
		if c.Cell != id {
			return nil, fmt.Errorf("%s line %d: cell %q: its row is of trace %q, policy %q, seed %d, split %q (cell %s)", name, line, c.Cell, c.Trace, c.Policy, c.Seed, c.Split, id)
		}
		if prev, ok := seen[id]; ok {
			return nil, fmt.Errorf("%s line %d: cell %s: a second row (the first is line %d)", name, line, id, prev)
		}
		seen[id] = line
		for _, m := range metrics {
			i := col[m.Name]
			f, err := strconv.ParseFloat(row[i], 64)
			if err != nil {
				err = errors.New("not a number")
			} else {
				err = m.check(f)
			}
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %s %q: %w", name, line, m.Name, row[i], err)
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
