package sim

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// TimelineHeader is the header row WriteTimelineCSV writes, one name per Row field.
var TimelineHeader = []string{
	"time_s", "arrival_rate", "arrivals", "completed", "dropped", "slo_violations",
	"p50_s", "p95_s", "p99_s", "utilisation", "ready", "provisioning", "draining",
	"desired", "demand", "cost", "in_flight", "queued", "supply",
}

// WriteTimelineCSV writes rows as CSV with a header. Floats are formatted with
// strconv 'g' and the shortest exact precision, NaN as "NaN", so identical
// timelines give identical bytes.
func WriteTimelineCSV(w io.Writer, rows []Row) error {
	bw := bufio.NewWriter(w)
	var buf []byte
	for i, h := range TimelineHeader {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, h...)
	}
	buf = append(buf, '\n')
	for _, r := range rows {
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("sim: write timeline: %w", err)
		}
		buf = buf[:0]
		f := func(x float64) { buf = strconv.AppendFloat(buf, x, 'g', -1, 64); buf = append(buf, ',') }
		n := func(x int) { buf = strconv.AppendInt(buf, int64(x), 10); buf = append(buf, ',') }
		f(r.Time.Seconds())
		f(r.ArrivalRate)
		n(r.Arrivals)
		n(r.Completed)
		n(r.Dropped)
		n(r.SLOViolations)
		f(r.P50)
		f(r.P95)
		f(r.P99)
		f(r.Utilisation)
		n(r.Ready)
		n(r.Provisioning)
		n(r.Draining)
		n(r.Desired)
		n(r.Demand)
		f(r.Cost)
		n(r.InFlight)
		n(r.Queued)
		n(r.Supply)
		buf[len(buf)-1] = '\n'
	}
	if _, err := bw.Write(buf); err != nil {
		return fmt.Errorf("sim: write timeline: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("sim: write timeline: %w", err)
	}
	return nil
}
