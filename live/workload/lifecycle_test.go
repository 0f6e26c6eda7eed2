package workload

import (
	"math"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/promtest"
)

// TestLifecycleMetrics: the start and ready timestamps give the start-up delay as the
// readiness check saw it, and the drop settings are exported as configured.
func TestLifecycleMetrics(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a, err := NewApp(AppConfig{StartupDelay: 3 * time.Second, Queue: 7, Timeout: 1500 * time.Millisecond}, t0)
	if err != nil {
		t.Fatal(err)
	}
	l := a.life
	if v := promtest.Value(l.ready); v != 0 {
		t.Errorf("app_ready_time_seconds before ready = %v, want 0", v)
	}
	a.Tick(t0.Add(2 * time.Second))
	a.Tick(t0.Add(3200 * time.Millisecond)) // the first tick after the delay
	a.Tick(t0.Add(10 * time.Second))        // later ticks keep the first moment
	if d := promtest.Value(l.ready) - promtest.Value(l.start); math.Abs(d-3.2) > 1e-9 {
		t.Errorf("ready - start = %v s, want 3.2", d)
	}
	if q, to := promtest.Value(l.queue), promtest.Value(l.timeout); q != 7 || to != 1.5 {
		t.Errorf("app_queue_capacity %v, app_request_timeout_seconds %v; want 7 and 1.5", q, to)
	}
}
