package workload

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/promtest"
)

// gatedApp returns an app whose requests are served only when release gets a value
// (or their context ends), so that queue and timeout tests do not depend on timing.
func gatedApp(t *testing.T, cfg AppConfig) (*App, chan struct{}, *httptest.Server) {
	t.Helper()
	a, err := NewApp(cfg, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	a.work = func(ctx context.Context, d time.Duration) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return a, release, srv
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Error(err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if cond() {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestAppQueueOverflowIs503(t *testing.T) {
	a, release, srv := gatedApp(t, AppConfig{Slots: 1, Queue: 2, Timeout: time.Minute})
	codes := make(chan int, 3)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ { // 1 in service + 2 queued fill the app
		wg.Add(1)
		go func() { defer wg.Done(); codes <- get(t, srv.URL+"/work") }()
	}
	waitFor(t, "3 in flight", func() bool { return promtest.Value(a.inFlight) == 3 })
	if q := promtest.Value(a.queued); q != 2 {
		t.Errorf("http_requests_queued = %v, want 2", q)
	}
	if c := get(t, srv.URL+"/work"); c != 503 {
		t.Errorf("4th request: code %d, want 503", c)
	}
	for i := 0; i < 3; i++ {
		release <- struct{}{}
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("queued request: code %d, want 200", c)
		}
	}
	if got := promtest.Value(a.requests.WithLabelValues("200")); got != 3 {
		t.Errorf(`http_requests_total{code="200"} = %v, want 3`, got)
	}
	if got := promtest.Value(a.requests.WithLabelValues("503")); got != 1 {
		t.Errorf(`http_requests_total{code="503"} = %v, want 1`, got)
	}
	if n := promtest.Value(a.duration); n != 3 {
		t.Errorf("http_request_duration_seconds_count = %v, want 3 (completed only)", n)
	}
	if f := promtest.Value(a.inFlight) + promtest.Value(a.queued); f != 0 {
		t.Errorf("in flight + queued after all answered = %v, want 0", f)
	}
}

func TestAppTimeoutIs504InQueueAndInService(t *testing.T) {
	a, _, srv := gatedApp(t, AppConfig{Slots: 1, Queue: 5, Timeout: 50 * time.Millisecond})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = get(t, srv.URL+"/") }()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 504 {
			t.Errorf("request %d: code %d, want 504 (never released)", i, c)
		}
	}
	if got := promtest.Value(a.requests.WithLabelValues("504")); got != 2 {
		t.Errorf(`http_requests_total{code="504"} = %v, want 2`, got)
	}
	// Only the request that held the slot was busy, for about the timeout.
	if b := promtest.Value(a.busy); b < 0.04 || b > 0.5 {
		t.Errorf("app_worker_busy_seconds_total = %v, want about 0.05 (one slot for one timeout)", b)
	}
}

func TestAppReadinessAndSlots(t *testing.T) {
	t0 := time.Unix(100, 0)
	a, err := NewApp(AppConfig{Slots: 3, StartupDelay: 2 * time.Second}, t0)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	if c := get(t, srv.URL+"/ready"); c != 503 {
		t.Errorf("ready during startup: %d, want 503", c)
	}
	if s := promtest.Value(a.slotsG); s != 0 {
		t.Errorf("app_worker_slots during startup = %v, want 0", s)
	}
	a.Tick(t0.Add(2 * time.Second))
	if c := get(t, srv.URL+"/ready"); c != 200 {
		t.Errorf("ready after startup: %d, want 200", c)
	}
	if s := promtest.Value(a.slotsG); s != 3 {
		t.Errorf("app_worker_slots = %v, want 3", s)
	}
	a.Drain()
	a.Tick(t0.Add(time.Hour))
	if c := get(t, srv.URL+"/ready"); c != 503 {
		t.Errorf("ready while draining: %d, want 503", c)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"http_requests_total", "http_request_duration_seconds_bucket", "app_worker_busy_seconds_total",
		"app_worker_slots", "http_requests_in_flight", "http_requests_queued"} {
		if !strings.Contains(string(body), "\n"+m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

func TestServiceTimeMoments(t *testing.T) {
	for _, tc := range []struct {
		dist   string
		cv     float64
		wantCV float64
	}{{"exponential", 0, 1}, {"lognormal", 0.5, 0.5}, {"lognormal", 2, 2}, {"constant", 0, 0}} {
		cfg := AppConfig{ServiceDist: tc.dist, ServiceCV: tc.cv, Seed: 7}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		app, err := NewApp(cfg, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		const n = 200000
		var s, s2 float64
		for i := 0; i < n; i++ {
			x := app.serviceTime().Seconds()
			s += x
			s2 += x * x
		}
		mean := s / n
		cv := math.Sqrt(math.Max(s2/n-mean*mean, 0)) / mean
		if math.Abs(mean-0.1) > 0.003 {
			t.Errorf("%s cv %v: mean %v, want 0.1", tc.dist, tc.cv, mean)
		}
		if math.Abs(cv-tc.wantCV) > 0.06*math.Max(tc.wantCV, 0.1)+0.01 {
			t.Errorf("%s cv %v: sample cv %v, want %v", tc.dist, tc.cv, cv, tc.wantCV)
		}
	}
}

func TestAppConfigRejectsBadValues(t *testing.T) {
	for _, c := range []AppConfig{
		{Slots: -1}, {Queue: -1}, {ServiceDist: "pareto"}, {Work: "disk"}, {ServiceCV: math.NaN()}, {StartupDelay: -time.Second},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
}
