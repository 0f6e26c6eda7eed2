package sim

import "time"

// DefBuckets are the upper bounds, in seconds, of the http_request_duration_seconds
// histogram: Prometheus client_golang's prometheus.DefBuckets.
var DefBuckets = [...]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Scrape is one sample of the service's metrics at a scrape time, as Prometheus would
// record it from the whole service (summed over replicas). Counters are cumulative
// since the start of the run. Metric names are given per field.
type Scrape struct {
	// Time of the scrape since the start of the run.
	Time time.Duration
	// RequestsOK, RequestsRejected, RequestsTimedOut: http_requests_total with
	// code="200" (completed), code="503" (queue full, no ready replica, drain expiry)
	// and code="504" (timed out).
	RequestsOK, RequestsRejected, RequestsTimedOut float64
	// DurationBuckets[i]: http_request_duration_seconds_bucket{le=DefBuckets[i]}, the
	// count of completed requests no slower than DefBuckets[i]; the le="+Inf" bucket
	// equals DurationCount.
	DurationBuckets [len(DefBuckets)]float64
	// DurationSum and DurationCount: http_request_duration_seconds_sum and _count.
	DurationSum, DurationCount float64
	// BusySeconds: app_worker_busy_seconds_total, worker-slot seconds spent serving.
	BusySeconds float64
	// Slots: app_worker_slots, worker slots of Ready replicas (a gauge).
	Slots float64
	// InFlight: http_requests_in_flight; Queued: http_requests_queued (gauges).
	InFlight, Queued float64
	// Ready, Provisioning, Draining: intelliscale_replicas{state=...} (gauges).
	Ready, Provisioning, Draining float64
	// Desired: intelliscale_desired_replicas (a gauge).
	Desired float64
}

// Recorder receives every scrape as it is taken. The Scrape is only valid during the
// call: a Recorder that keeps it copies it.
type Recorder interface {
	Record(s *Scrape)
}
