package features

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/intelliscale/intelliscale/sim"
)

// Storage keeps every scrape of a run and serves them as Prometheus series: a
// sim.Recorder and a storage.Queryable, so that the promql engine can evaluate feature
// expressions over a simulated run exactly as Prometheus would over production.
// Sample timestamps are Epoch + scrape time, in milliseconds.
type Storage struct {
	Epoch   time.Time
	Scrapes []sim.Scrape
}

// NewStorage returns an empty storage whose sim time zero is epoch.
func NewStorage(epoch time.Time) *Storage { return &Storage{Epoch: epoch} }

// Record copies the scrape (sim.Recorder).
func (s *Storage) Record(sc *sim.Scrape) { s.Scrapes = append(s.Scrapes, *sc) }

// Millis is the sample timestamp of sim time d.
func (s *Storage) Millis(d time.Duration) int64 { return s.Epoch.UnixMilli() + d.Milliseconds() }

// Querier returns a querier over the samples in [mint, maxt] (storage.Queryable).
func (s *Storage) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{s: s, mint: mint, maxt: maxt}, nil
}

type querier struct {
	s          *Storage
	mint, maxt int64
}

// sample is one float sample (chunks.Sample).
type sample struct {
	t int64
	f float64
}

func (p sample) T() int64                      { return p.t }
func (p sample) ST() int64                     { return 0 }
func (p sample) F() float64                    { return p.f }
func (p sample) H() *histogram.Histogram       { return nil }
func (p sample) FH() *histogram.FloatHistogram { return nil }
func (p sample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (p sample) Copy() chunks.Sample           { return p }

func (q *querier) matching(ms []*labels.Matcher) []int {
	idx := matchSeries(ms)
	sort.Slice(idx, func(a, b int) bool { return labels.Compare(series[idx[a]].Labels, series[idx[b]].Labels) < 0 })
	return idx
}

// Select returns the matching series, sorted by labels, with their samples in the
// querier's time range.
func (q *querier) Select(_ context.Context, _ bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = max(mint, hints.Start), min(maxt, hints.End)
	}
	var out []storage.Series
	for _, col := range q.matching(ms) {
		var samples []chunks.Sample
		for i := range q.s.Scrapes {
			sc := &q.s.Scrapes[i]
			t := q.s.Millis(sc.Time)
			if t < mint || t > maxt {
				continue
			}
			samples = append(samples, sample{t, series[col].Value(sc)})
		}
		if len(samples) > 0 {
			out = append(out, storage.NewListSeries(series[col].Labels, samples))
		}
	}
	return &seriesSet{list: out, i: -1}
}

// LabelValues returns the sorted values of label name over the matching series.
func (q *querier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var out []string
	for _, col := range q.matching(ms) {
		if v := series[col].Labels.Get(name); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil, nil
}

// LabelNames returns the sorted label names of the matching series.
func (q *querier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	var out []string
	for _, col := range q.matching(ms) {
		series[col].Labels.Range(func(l labels.Label) {
			if !slices.Contains(out, l.Name) {
				out = append(out, l.Name)
			}
		})
	}
	slices.Sort(out)
	return out, nil, nil
}

func (q *querier) Close() error { return nil }

type seriesSet struct {
	list []storage.Series
	i    int
}

func (s *seriesSet) Next() bool                        { s.i++; return s.i < len(s.list) }
func (s *seriesSet) At() storage.Series                { return s.list[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }
