package features

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/intelliscale/intelliscale/sim"
)

// WriteOpenMetrics writes a run's scrapes as OpenMetrics text, the input of
// `promtool tsdb create-blocks-from openmetrics`, so that a simulated run can be
// opened in Prometheus and Grafana like production. Sample timestamps are epoch +
// scrape time, in seconds. Each family is written whole (all its series, each in
// time order), as OpenMetrics requires; counters use the _total suffix; the text
// ends with # EOF. scrapes must be in time order.
//
// The service's constants follow as gauges sampled at every scrape, as the live app
// exports them: each of consts (the queue bound and the request timeout, so that
// calibrate reads them from the simulator's dump as from production's).
func WriteOpenMetrics(w io.Writer, scrapes []sim.Scrape, epoch time.Time, consts ...Gauge) error {
	bw := bufio.NewWriter(w)
	base := epoch.UnixMilli()
	var buf []byte
	ts := func(sc *sim.Scrape) string {
		ms := base + sc.Time.Milliseconds()
		return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
	}
	for fi, fam := range families {
		fmt.Fprintf(bw, "# TYPE %s %s\n", fam.Name, fam.Type)
		if fam.Unit != "" {
			fmt.Fprintf(bw, "# UNIT %s %s\n", fam.Name, fam.Unit)
		}
		fmt.Fprintf(bw, "# HELP %s %s\n", fam.Name, fam.Help)
		var cols []int
		for i, d := range series {
			if d.Family == fi {
				cols = append(cols, i)
			}
		}
		if fam.Type == typeHistogram {
			// One metric (no labels besides le): each point is its buckets, sum
			// and count at one timestamp.
			for k := range scrapes {
				sc := &scrapes[k]
				t := ts(sc)
				for _, c := range cols {
					buf = appendSample(buf[:0], series[c].Labels, series[c].Value(sc), t)
					bw.Write(buf)
				}
			}
			continue
		}
		for _, c := range cols {
			for k := range scrapes {
				sc := &scrapes[k]
				buf = appendSample(buf[:0], series[c].Labels, series[c].Value(sc), ts(sc))
				bw.Write(buf)
			}
		}
	}
	for _, g := range consts {
		fmt.Fprintf(bw, "# TYPE %s gauge\n# HELP %s %s\n", g.Name, g.Name, g.Help)
		ls := labels.FromStrings(labels.MetricName, g.Name)
		for k := range scrapes {
			buf = appendSample(buf[:0], ls, g.Value, ts(&scrapes[k]))
			bw.Write(buf)
		}
	}
	bw.WriteString("# EOF\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("features: writing OpenMetrics: %w", err)
	}
	return nil
}

// Gauge is a constant of the service written beside the scrapes.
type Gauge struct {
	Name, Help string
	Value      float64
}

// ServiceGauges are the constants of the simulated service that the live app
// exports too (live/workload): the queue bound and the request timeout.
func ServiceGauges(c *sim.Config) []Gauge {
	return []Gauge{
		{Name: "app_queue_capacity", Help: "Requests that may wait for a worker slot; beyond, arrivals are answered 503.", Value: float64(c.Queue())},
		{Name: "app_request_timeout_seconds", Help: "Per-request timeout from arrival; slower requests are answered 504.", Value: c.Timeout.Seconds()},
	}
}

func appendSample(b []byte, ls labels.Labels, v float64, ts string) []byte {
	b = append(b, ls.Get(labels.MetricName)...)
	first := true
	ls.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if first {
			b = append(b, '{')
			first = false
		} else {
			b = append(b, ',')
		}
		b = append(b, l.Name...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, l.Value)
	})
	if !first {
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	b = append(b, ' ')
	b = append(b, ts...)
	return append(b, '\n')
}
