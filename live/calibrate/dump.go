package calibrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/intelliscale/intelliscale/traces"
)

// Dump is a set of series read from a Prometheus or OpenMetrics text file with a
// timestamp on every sample (what `intelliscale sim --openmetrics` writes, or a
// federation or promtool dump). It is a storage.Queryable, so the promql engine
// evaluates the same queries over it as over a Prometheus server.
type Dump struct {
	Name       string
	series     []dumpSeries // sorted by labels
	MinT, MaxT int64        // sample time range, milliseconds
}

type dumpSeries struct {
	labels  labels.Labels
	samples []chunks.Sample
}

// LoadDump reads the dump at path (at most traces.DefaultMaxBytes). The format is
// OpenMetrics when the text ends with "# EOF", else the Prometheus text format.
func LoadDump(path string) (*Dump, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, traces.DefaultMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > traces.DefaultMaxBytes {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", path, traces.ErrTooLarge, traces.DefaultMaxBytes)
	}
	return ParseDump(path, b)
}

// ParseDump parses the text of a dump; name is its source in errors.
func ParseDump(name string, b []byte) (*Dump, error) {
	ct := "text/plain"
	if bytes.HasSuffix(bytes.TrimRight(b, "\n"), []byte("# EOF")) {
		ct = "application/openmetrics-text"
	}
	p, err := textparse.New(b, ct, labels.NewSymbolTable(), textparse.ParserOptions{})
	if p == nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	byKey := map[string]int{}
	d := &Dump{Name: name, MinT: math.MaxInt64, MaxT: math.MinInt64}
	var ls labels.Labels
	n := 0
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: after %d samples: %w", name, n, err)
		}
		if e == textparse.EntryHistogram {
			return nil, fmt.Errorf("%s: sample %d: native histograms are not supported; dump classic _bucket series", name, n+1)
		}
		if e != textparse.EntrySeries {
			continue
		}
		n++
		_, ts, v := p.Series()
		p.Labels(&ls)
		if ts == nil {
			return nil, fmt.Errorf("%s: sample %d (%s): no timestamp: a dump needs a timestamp on every sample (a federation or promtool dump, or intelliscale sim --openmetrics)", name, n, ls)
		}
		if math.IsInf(v, 0) || (math.IsNaN(v) && !value.IsStaleNaN(v)) {
			return nil, fmt.Errorf("%s: sample %d (%s) at %d ms: value %v: must be finite", name, n, ls, *ts, v)
		}
		k := ls.String()
		i, ok := byKey[k]
		if !ok {
			i = len(d.series)
			byKey[k] = i
			d.series = append(d.series, dumpSeries{labels: ls.Copy()})
		}
		s := &d.series[i]
		if m := len(s.samples); m > 0 && s.samples[m-1].T() >= *ts {
			return nil, fmt.Errorf("%s: sample %d (%s) at %d ms: not after the previous sample of the series (%d ms)", name, n, ls, *ts, s.samples[m-1].T())
		}
		s.samples = append(s.samples, fsample{*ts, v})
		d.MinT, d.MaxT = min(d.MinT, *ts), max(d.MaxT, *ts)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: %w: no samples", name, traces.ErrEmpty)
	}
	sort.Slice(d.series, func(a, b int) bool { return labels.Compare(d.series[a].labels, d.series[b].labels) < 0 })
	return d, nil
}

// Querier implements storage.Queryable.
func (d *Dump) Querier(mint, maxt int64) (storage.Querier, error) {
	return &dumpQuerier{d: d, mint: mint, maxt: maxt}, nil
}

type dumpQuerier struct {
	d          *Dump
	mint, maxt int64
}

// fsample is one float sample (chunks.Sample).
type fsample struct {
	t int64
	f float64
}

func (p fsample) T() int64                      { return p.t }
func (p fsample) ST() int64                     { return 0 }
func (p fsample) F() float64                    { return p.f }
func (p fsample) H() *histogram.Histogram       { return nil }
func (p fsample) FH() *histogram.FloatHistogram { return nil }
func (p fsample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (p fsample) Copy() chunks.Sample           { return p }

func (q *dumpQuerier) matching(ms []*labels.Matcher) []*dumpSeries {
	var out []*dumpSeries
next:
	for i := range q.d.series {
		s := &q.d.series[i]
		for _, m := range ms {
			if !m.Matches(s.labels.Get(m.Name)) {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

func (q *dumpQuerier) Select(_ context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = max(mint, hints.Start), min(maxt, hints.End)
	}
	var out []storage.Series
	for _, s := range q.matching(ms) {
		lo := sort.Search(len(s.samples), func(i int) bool { return s.samples[i].T() >= mint })
		hi := sort.Search(len(s.samples), func(i int) bool { return s.samples[i].T() > maxt })
		if lo < hi {
			out = append(out, storage.NewListSeries(s.labels, s.samples[lo:hi]))
		}
	}
	return &listSet{list: out, i: -1}
}

func (q *dumpQuerier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var out []string
	for _, s := range q.matching(ms) {
		if v := s.labels.Get(name); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil, nil
}

func (q *dumpQuerier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var out []string
	for _, s := range q.matching(ms) {
		s.labels.Range(func(l labels.Label) {
			if !slices.Contains(out, l.Name) {
				out = append(out, l.Name)
			}
		})
	}
	slices.Sort(out)
	return out, nil, nil
}

func (q *dumpQuerier) Close() error { return nil }

type listSet struct {
	list []storage.Series
	i    int
}

func (s *listSet) Next() bool                        { s.i++; return s.i < len(s.list) }
func (s *listSet) At() storage.Series                { return s.list[s.i] }
func (s *listSet) Err() error                        { return nil }
func (s *listSet) Warnings() annotations.Annotations { return nil }
