package workload

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// lifecycle exports what calibration needs beyond the features: when the replica
// started and became ready (its start-up delay) and its drop settings (queue bound and
// timeout), so that `intelliscale calibrate` reads them instead of guessing.
type lifecycle struct {
	start, ready, queue, timeout prometheus.Gauge
	readySet                     bool
}

func newLifecycle(cfg AppConfig, now time.Time) *lifecycle {
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	l := &lifecycle{
		start:   g("app_start_time_seconds", "Unix time the replica started (its start-up delay counts from here)."),
		ready:   g("app_ready_time_seconds", "Unix time the replica first became ready; 0 before."),
		queue:   g("app_queue_capacity", "Requests that may wait for a worker slot; beyond, arrivals are answered 503."),
		timeout: g("app_request_timeout_seconds", "Per-request timeout from arrival; slower requests are answered 504."),
	}
	l.start.Set(float64(now.UnixMilli()) / 1000)
	l.queue.Set(float64(cfg.Queue))
	l.timeout.Set(cfg.Timeout.Seconds())
	return l
}

func (l *lifecycle) collectors() []prometheus.Collector {
	return []prometheus.Collector{l.start, l.ready, l.queue, l.timeout}
}

// tick records the first moment the replica is seen ready.
func (l *lifecycle) tick(now time.Time, ready bool) {
	if ready && !l.readySet {
		l.readySet = true
		l.ready.Set(float64(now.UnixMilli()) / 1000)
	}
}
