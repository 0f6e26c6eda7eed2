package calibrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// ExplainNoData explains err, the no-data error of a query over the dump at path,
// when the query selects a metric the dump has over a range shorter than twice its
// scrape interval (rate(x[10s]) over 15 s scrapes): the range then holds fewer
// than the two samples rate() needs, which no data does not say. Any other error is
// returned as it is.
func ExplainNoData(err error, dump, query string, step time.Duration) error {
	if dump == "" || !errors.Is(err, ErrNoData) {
		return err
	}
	if query == "" {
		query = DefaultRateQuery(step)
	}
	expr, perr := parser.NewParser(parser.Options{}).ParseExpr(query)
	if perr != nil {
		return err
	}
	d, derr := LoadDump(dump)
	if derr != nil {
		return err
	}
	hint := err
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		m, ok := n.(*parser.MatrixSelector)
		if !ok || hint != err || m.Range <= 0 {
			return nil
		}
		vs, ok := m.VectorSelector.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if scrape := scrapeInterval(d, vs.LabelMatchers); scrape > 0 && m.Range < 2*scrape {
			hint = fmt.Errorf("the dump %s: query %s: %w: %s is scraped every %s there, and a range of %s holds fewer than the two samples rate() needs: give a range of at least %s, twice the scrape interval",
				dump, query, ErrNoData, vs, yamldoc.Duration(scrape), yamldoc.Duration(m.Range), yamldoc.Duration(2*scrape))
		}
		return nil
	})
	return hint
}

// scrapeInterval is the median time between two samples of a series of d that
// matchers select; 0 when none has two.
func scrapeInterval(d *Dump, matchers []*labels.Matcher) time.Duration {
	q, err := d.Querier(d.MinT, d.MaxT)
	if err != nil {
		return 0
	}
	defer q.Close()
	var gaps []int64
	set := q.Select(context.Background(), false, nil, matchers...)
	for set.Next() {
		it := set.At().Iterator(nil)
		prev := int64(-1)
		for it.Next() != chunkenc.ValNone {
			t, _ := it.At()
			if prev >= 0 && t > prev {
				gaps = append(gaps, t-prev)
			}
			prev = t
		}
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return time.Duration(gaps[len(gaps)/2]) * time.Millisecond
}
