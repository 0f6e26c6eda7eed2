package features

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/intelliscale/intelliscale/sim"
)

// Metric family types, as OpenMetrics names them.
const (
	typeCounter   = "counter"
	typeGauge     = "gauge"
	typeHistogram = "histogram"
)

// family is one metric family the simulator records and the live app exports.
type family struct {
	Name string // family name (for counters without the _total suffix)
	Type string
	Unit string // OpenMetrics unit, "" when none
	Help string
}

// families lists every metric family, in the order the OpenMetrics writer emits them.
var families = []family{
	{"http_requests", typeCounter, "", "Requests finished, by HTTP status code (200 served, 503 rejected, 504 timed out)."},
	{"http_request_duration_seconds", typeHistogram, "seconds", "Response time of served requests."},
	{"app_worker_busy_seconds", typeCounter, "seconds", "Worker-slot seconds spent serving requests."},
	{"app_worker_slots", typeGauge, "", "Worker slots of ready replicas."},
	{"http_requests_in_flight", typeGauge, "", "Requests queued or in service."},
	{"http_requests_queued", typeGauge, "", "Requests waiting for a worker slot."},
	{"intelliscale_replicas", typeGauge, "", "Replicas by lifecycle state."},
	{"intelliscale_desired_replicas", typeGauge, "", "Replica count the autoscaler asked for."},
}

// seriesDef is one time series of a Scrape: its labels (with __name__) and how to
// read its value.
type seriesDef struct {
	Family int // index into families
	Labels labels.Labels
	Value  func(s *sim.Scrape) float64
}

// series is the fixed table of every series a Scrape holds. Its order is the column
// order of the native evaluator's sample rows and of Storage's series.
var series = buildSeries()

// MetricNames returns the metric names (__name__ values) a feature expression may
// select: the names the simulator records and the live app exports.
func MetricNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range series {
		n := d.Labels.Get(labels.MetricName)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// leLabel formats a bucket bound as Prometheus 3 stores classic-histogram le labels
// (OpenMetrics float format: "1.0", "0.5", "+Inf").
func leLabel(b float64) string { return labels.FormatOpenMetricsFloat(b) }

func buildSeries() []seriesDef {
	var out []seriesDef
	add := func(fam int, name string, v func(*sim.Scrape) float64, kv ...string) {
		out = append(out, seriesDef{Family: fam, Labels: labels.FromStrings(append([]string{labels.MetricName, name}, kv...)...), Value: v})
	}
	add(0, "http_requests_total", func(s *sim.Scrape) float64 { return s.RequestsOK }, "code", "200")
	add(0, "http_requests_total", func(s *sim.Scrape) float64 { return s.RequestsRejected }, "code", "503")
	add(0, "http_requests_total", func(s *sim.Scrape) float64 { return s.RequestsTimedOut }, "code", "504")
	for i, b := range sim.DefBuckets {
		add(1, "http_request_duration_seconds_bucket", func(s *sim.Scrape) float64 { return s.DurationBuckets[i] }, "le", leLabel(b))
	}
	add(1, "http_request_duration_seconds_bucket", func(s *sim.Scrape) float64 { return s.DurationCount }, "le", "+Inf")
	add(1, "http_request_duration_seconds_sum", func(s *sim.Scrape) float64 { return s.DurationSum })
	add(1, "http_request_duration_seconds_count", func(s *sim.Scrape) float64 { return s.DurationCount })
	add(2, "app_worker_busy_seconds_total", func(s *sim.Scrape) float64 { return s.BusySeconds })
	add(3, "app_worker_slots", func(s *sim.Scrape) float64 { return s.Slots })
	add(4, "http_requests_in_flight", func(s *sim.Scrape) float64 { return s.InFlight })
	add(5, "http_requests_queued", func(s *sim.Scrape) float64 { return s.Queued })
	add(6, "intelliscale_replicas", func(s *sim.Scrape) float64 { return s.Ready }, "state", "ready")
	add(6, "intelliscale_replicas", func(s *sim.Scrape) float64 { return s.Provisioning }, "state", "provisioning")
	add(6, "intelliscale_replicas", func(s *sim.Scrape) float64 { return s.Draining }, "state", "draining")
	add(7, "intelliscale_desired_replicas", func(s *sim.Scrape) float64 { return s.Desired })
	return out
}

// matchSeries returns the indices of the series every matcher accepts.
func matchSeries(ms []*labels.Matcher) []int {
	var out []int
next:
	for i, d := range series {
		for _, m := range ms {
			if !m.Matches(d.Labels.Get(m.Name)) {
				continue next
			}
		}
		out = append(out, i)
	}
	return out
}
