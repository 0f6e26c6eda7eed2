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
	"strconv"

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

// ParseDump parses the text of a dump; name is its source in errors, which give the
// line. A leading UTF-8 byte order mark and CRLF line endings (a dump saved on or
// copied through Windows) are accepted and read as the plain LF text.
func ParseDump(name string, b []byte) (*Dump, error) {
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		return nil, fmt.Errorf("%s: gzip-compressed: decompress it first (gunzip)", name)
	}
	b = plainText(b)
	if bytes.HasSuffix(bytes.TrimRight(b, "\n"), []byte("# EOF")) {
		return parseDump(name, b, "application/openmetrics-text")
	}
	d, err := parseDump(name, b, "text/plain")
	if err == nil {
		return d, nil
	}
	// OpenMetrics cut short (a copy or a download that stopped) has lost its "# EOF"
	// and reads as the Prometheus format, which rejects its timestamps in seconds:
	// say so when the text reads as OpenMetrics up to its last line.
	var pe, ome *dumpError
	if errors.As(err, &pe) && pe.syntax {
		if _, omErr := parseDump(name, b, "application/openmetrics-text"); errors.As(omErr, &ome) && ome.syntax && ome.line > 1 && ome.line >= lineCount(b) {
			return nil, fmt.Errorf("%s: OpenMetrics text ends at line %d without the closing \"# EOF\": the dump is cut short; copy it again whole", name, lineCount(b))
		}
	}
	return nil, err
}

// plainText is b without a leading UTF-8 byte order mark and with each line's
// trailing carriage return removed, as the trace loaders read text: the Prometheus
// and OpenMetrics parsers take neither. Line numbers are unchanged; b is not
// modified.
func plainText(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// counters are the counter series calibrate reads; a negative value of one is
// corrupt data, not a counter reset.
var counters = map[string]bool{
	"http_requests_total":                  true,
	"http_request_duration_seconds_bucket": true,
	"http_request_duration_seconds_count":  true,
	"http_request_duration_seconds_sum":    true,
	"app_worker_busy_seconds_total":        true,
}

// dumpError is an error at a line of a dump.
type dumpError struct {
	name   string
	line   int
	err    error
	syntax bool // from the parser
}

func (e *dumpError) Error() string { return fmt.Sprintf("%s line %d: %v", e.name, e.line, e.err) }
func (e *dumpError) Unwrap() error { return e.err }

func parseDump(name string, b []byte, ct string) (*Dump, error) {
	p, err := textparse.New(b, ct, labels.NewSymbolTable(), textparse.ParserOptions{})
	if p == nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	lines := lineCursor{b: b, skipBlank: ct == "text/plain"}
	byKey := map[string]int{}
	d := &Dump{Name: name, MinT: math.MaxInt64, MaxT: math.MinInt64}
	var ls labels.Labels
	n := 0
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		line := lines.next()
		fail := func(format string, a ...any) error {
			return &dumpError{name: name, line: line, err: fmt.Errorf(format, a...)}
		}
		if err != nil {
			if n == 0 {
				err = fmt.Errorf("%w (not Prometheus or OpenMetrics text?)", err)
			}
			return nil, &dumpError{name: name, line: line, err: err, syntax: true}
		}
		if e == textparse.EntryHistogram {
			return nil, fail("native histograms are not supported; dump classic _bucket series")
		}
		if e != textparse.EntrySeries {
			continue
		}
		n++
		_, ts, v := p.Series()
		p.Labels(&ls)
		if ts == nil {
			return nil, fail("%s: no timestamp: a dump needs a timestamp on every sample (a federation or promtool dump, or intelliscale sim --openmetrics)", ls)
		}
		if math.IsInf(v, 0) || (math.IsNaN(v) && !value.IsStaleNaN(v)) {
			return nil, fail("%s at %d ms: value %v: must be finite", ls, *ts, v)
		}
		if v < 0 && counters[ls.Get(labels.MetricName)] {
			return nil, fail("%s at %d ms: value %v: a counter cannot be negative", ls, *ts, v)
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
			return nil, fail("%s at %d ms: not after the previous sample of the series (%d ms)", ls, *ts, s.samples[m-1].T())
		}
		s.samples = append(s.samples, fsample{*ts, v})
		d.MinT, d.MaxT = min(d.MinT, *ts), max(d.MaxT, *ts)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: %w: no samples", name, traces.ErrEmpty)
	}
	sort.Slice(d.series, func(a, b int) bool { return labels.Compare(d.series[a].labels, d.series[b].labels) < 0 })
	if err := d.checkBuckets(latencyBuckets); err != nil {
		return nil, err
	}
	return d, nil
}

// lineCursor follows the parser through the text: every entry is one line, and the
// Prometheus text format also skips blank lines.
type lineCursor struct {
	b         []byte
	off, n    int
	skipBlank bool
}

// next returns the number, from 1, of the line the parser's latest entry (or error)
// is on and moves past it.
func (c *lineCursor) next() int {
	for c.skipBlank && c.off < len(c.b) && c.b[c.off] == '\n' {
		c.off++
		c.n++
	}
	c.n++
	if i := bytes.IndexByte(c.b[c.off:], '\n'); i >= 0 {
		c.off += i + 1
	} else {
		c.off = len(c.b)
	}
	return c.n
}

// lineCount is the number of lines of b, the last one counted without its newline.
func lineCount(b []byte) int {
	n := bytes.Count(b, []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// latencyBuckets is the classic histogram calibrate fits the service time to.
const latencyBuckets = "http_request_duration_seconds_bucket"

// checkBuckets checks the classic histogram series named name: each histogram (the
// labels other than le) has a bucket le="+Inf", and at every time the buckets of
// both bounds hold a sample, the counts do not decrease as le grows.
func (d *Dump) checkBuckets(name string) error {
	type bucket struct {
		le float64
		s  *dumpSeries
	}
	groups := map[string][]bucket{}
	var keys []string
	for i := range d.series {
		s := &d.series[i]
		if s.labels.Get(labels.MetricName) != name {
			continue
		}
		le, err := strconv.ParseFloat(s.labels.Get("le"), 64)
		if err != nil {
			return fmt.Errorf("%s: %s: le %q is not a number", d.Name, s.labels, s.labels.Get("le"))
		}
		k := labels.NewBuilder(s.labels).Del("le").Labels().String()
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], bucket{le, s})
	}
	for _, k := range keys {
		bs := groups[k]
		sort.Slice(bs, func(a, b int) bool { return bs[a].le < bs[b].le })
		if !math.IsInf(bs[len(bs)-1].le, 1) {
			return fmt.Errorf("%s: histogram %s: no bucket le=\"+Inf\" (%d buckets, the highest le=%q): a classic histogram needs one", d.Name, k, len(bs), bs[len(bs)-1].s.labels.Get("le"))
		}
		for j := 1; j < len(bs); j++ {
			lo, hi := bs[j-1].s.samples, bs[j].s.samples
			for a, b := 0, 0; a < len(lo) && b < len(hi); {
				switch ta, tb := lo[a].T(), hi[b].T(); {
				case ta < tb:
					a++
				case ta > tb:
					b++
				default:
					if va, vb := lo[a].F(), hi[b].F(); va > vb {
						return fmt.Errorf("%s: histogram %s at %d ms: bucket le=%q counts %v, more than le=%q (%v): bucket counts must not decrease as le grows",
							d.Name, k, ta, bs[j-1].s.labels.Get("le"), va, bs[j].s.labels.Get("le"), vb)
					}
					a++
					b++
				}
			}
		}
	}
	return nil
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
