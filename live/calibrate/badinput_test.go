package calibrate

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/internal/promtest"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/sim"
)

// TestParseDumpBadInput: damaged dumps fail with the file, the line where it can be
// told, and what is wrong.
func TestParseDumpBadInput(t *testing.T) {
	om := "# TYPE x counter\nx_total 1 1.000\nx_total 2 2.000\n"
	hist := func(b1, b2, inf string) string {
		return "# TYPE http_request_duration_seconds histogram\n" +
			"http_request_duration_seconds_bucket{le=\"0.1\"} " + b1 + " 1.000\n" +
			"http_request_duration_seconds_bucket{le=\"1\"} " + b2 + " 1.000\n" +
			inf + "# EOF\n"
	}
	for _, c := range []struct{ name, text, want string }{
		{"cut OpenMetrics", om + "x_total 3 3.0", `d.om: OpenMetrics text ends at line 4 without the closing "# EOF": the dump is cut short`},
		{"cut at a line end", om, `d.om: OpenMetrics text ends at line 3 without the closing "# EOF"`},
		{"json", `{"data": [1, 2]}`, "d.om line 1: "},
		{"csv", "time,rate\n0,1\n60,2\n", "d.om line 1: "},
		{"gzip", "\x1f\x8b\x08\x00binary", "d.om: gzip-compressed"},
		{"error after blank lines", "x 1 1000\n\n\nx{ 2 2000\n", "d.om line 4: "},
		{"negative counter", "http_requests_total{code=\"200\"} 5 1000\nhttp_requests_total{code=\"200\"} -1 2000\n", "d.om line 2: " + `{__name__="http_requests_total", code="200"} at 2000 ms: value -1: a counter cannot be negative`},
		{"duplicate sample", "x 1 1000\ny 1 1000\nx 1 1000\n", "d.om line 3: {__name__=\"x\"} at 1000 ms: not after the previous sample"},
		{"buckets decrease", hist("5", "3", "http_request_duration_seconds_bucket{le=\"+Inf\"} 9 1.000\n"), `bucket le="0.1" counts 5, more than le="1.0" (3)`},
		{"no +Inf bucket", hist("1", "3", ""), `no bucket le="+Inf"`},
	} {
		_, err := ParseDump("d.om", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	// A negative gauge, blank lines in the text format and cumulative buckets load.
	for _, ok := range []string{
		"temperature -3 1000\n\ntemperature -2 2000\n",
		hist("1", "3", "http_request_duration_seconds_bucket{le=\"+Inf\"} 3 1.000\n"),
	} {
		if _, err := ParseDump("d.om", []byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// cancelling cancels its context at its n-th query, as a Ctrl-C would.
type cancelling struct {
	q      Querier
	n      int32
	calls  atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelling) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	if c.calls.Add(1) == c.n {
		c.cancel()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.q.QueryRange(ctx, expr, start, end, step)
}

// TestCalibrateStopsOnCancel: cancelled at any query, Calibrate fails with the
// context's error; the optional figures' defaults must not stand in for the metrics
// it did not read.
func TestCalibrateStopsOnCancel(t *testing.T) {
	cfg := sim.Config{Seed: 1, ServiceTime: sim.Dist{Kind: sim.Exponential, Mean: 0.05}, Concurrency: 2, ScrapeInterval: 5 * time.Second}
	tr := surgeTrace(60, 8, 90)
	q := simulate(t, cfg, tr)
	opt := Options{Start: epoch, End: epoch.Add(tr.Duration())}
	count := &cancelling{q: q, cancel: func() {}}
	if _, err := Calibrate(context.Background(), count, opt); err != nil {
		t.Fatal(err)
	}
	total := count.calls.Load()
	for n := int32(1); n <= total; n++ {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Calibrate(ctx, &cancelling{q: q, n: n, cancel: cancel}, opt)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled at query %d of %d: got %v, want context.Canceled", n, total, err)
		}
	}
}

// TestPromQuerierTimeout: a server that takes connections but never answers fails
// Ping and every query within their timeouts, naming the server.
func TestPromQuerierTimeout(t *testing.T) {
	srv := promtest.SilentServer(t)
	p, err := NewPromQuerier(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p.Timeout = 100 * time.Millisecond
	ctx := context.Background()
	t0 := time.Now()
	err = p.Ping(ctx, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), srv.URL+": no answer within 100ms") {
		t.Errorf("Ping: got %v, want no answer within 100ms", err)
	}
	_, err = p.QueryRange(ctx, "up", epoch, epoch.Add(time.Minute), time.Second)
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("QueryRange: got %v, want no answer within 100ms", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	// Not a Prometheus API: the first request says so.
	srv404 := httptest.NewServer(http.NotFoundHandler())
	defer srv404.Close()
	p, _ = NewPromQuerier(srv404.URL)
	if err := p.Ping(ctx, time.Second); err == nil || !strings.Contains(err.Error(), srv404.URL) || !strings.Contains(err.Error(), "404") {
		t.Errorf("404 server: Ping: %v", err)
	}
}

// TestOptionErrorsNameTheOption: a bad option is a FieldError whose path is the
// option, so that a command can name its flag; a query is never sent.
func TestOptionErrorsNameTheOption(t *testing.T) {
	window := Options{Start: epoch, End: epoch.Add(3 * time.Minute)}
	with := func(f func(*Options)) Options { o := window; f(&o); return o }
	for _, c := range []struct {
		opt        Options
		path, want string
	}{
		{with(func(o *Options) { o.Step = 2 * time.Minute }), "step", "step: 2m: must be > 0 and at most half the window (3m)"},
		{with(func(o *Options) { o.Step = -time.Second }), "step", "step: -1s: must be > 0"},
		{with(func(o *Options) { o.LowUtilisation = 1.5 }), "low_utilisation", "low_utilisation: 1.5: must be in (0, 1]"},
		{with(func(o *Options) { o.MinRequests = -1 }), "min_requests", "min_requests: -1: must be finite and > 0"},
		{with(func(o *Options) { o.MinLowRequests = math.Inf(1) }), "min_low_requests", "min_low_requests: +Inf: must be finite and > 0"},
		{with(func(o *Options) { o.End = epoch }), "end", "not after the start"},
		{Options{End: epoch}, "start", "start: required"},
	} {
		_, err := Calibrate(context.Background(), noQueries{t}, c.opt)
		var fe *yamldoc.FieldError
		if !errors.As(err, &fe) || fe != err || fe.Path != c.path || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want a FieldError at %s containing %q", c.opt, err, c.path, c.want)
		}
	}
	_, _, err := ImportTrace(context.Background(), noQueries{t}, "prom", "up", epoch, epoch.Add(3*time.Minute), 10*time.Minute)
	var fe *yamldoc.FieldError
	if !errors.As(err, &fe) || fe.Path != "step" || !strings.Contains(err.Error(), "step: 10m: longer than the window 2026-03-02T00:00:00Z to 2026-03-02T00:03:00Z (3m)") {
		t.Errorf("ImportTrace, a step longer than the window: got %v", err)
	}
}

// noQueries fails the test at any query.
type noQueries struct{ t *testing.T }

func (n noQueries) QueryRange(context.Context, string, time.Time, time.Time, time.Duration) ([]Series, error) {
	n.t.Error("queried")
	return nil, errors.New("no queries")
}

// bucketsOnly is a run's series as a dump without http_request_duration_seconds_sum
// and _count.
func bucketsOnly(t *testing.T, c *features.Storage) Querier {
	t.Helper()
	var b bytes.Buffer
	if err := features.WriteOpenMetrics(&b, c.Scrapes, c.Epoch); err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.SplitAfter(b.String(), "\n") {
		if !strings.HasPrefix(l, "http_request_duration_seconds_sum") && !strings.HasPrefix(l, "http_request_duration_seconds_count") {
			kept = append(kept, l)
		}
	}
	d, err := ParseDump("buckets.om", []byte(strings.Join(kept, "")))
	if err != nil {
		t.Fatal(err)
	}
	return NewEngineQuerier("buckets.om", d)
}

// TestCalibrateRefusesInconsistentBusyTime: busy seconds out of scale with the
// requests (a fiftieth of their value, three times, a thousand times: other units,
// counted per slot) are refused with ErrInconsistent, naming the figures, rather
// than fitted; so too without the histogram's _sum and _count, from its buckets. The
// clean run passes, its service and response times close.
func TestCalibrateRefusesInconsistentBusyTime(t *testing.T) {
	cfg := sim.Config{Seed: 3, ServiceTime: sim.Dist{Kind: sim.Exponential, Mean: 0.1}, Concurrency: 4,
		ScrapeInterval: 5 * time.Second, MinReplicas: new(1), MaxReplicas: 20, InitialReplicas: 2}
	tr := surgeTrace(160, 0.3*40, 2.5*40)
	st := record(t, cfg, tr)
	opt := Options{Start: epoch, End: epoch.Add(tr.Duration())}
	scaled := func(k float64) *features.Storage {
		c := *st
		c.Scrapes = slices.Clone(st.Scrapes)
		for i := range c.Scrapes {
			c.Scrapes[i].BusySeconds *= k
		}
		return &c
	}
	ctx := context.Background()
	fit, err := Calibrate(ctx, NewEngineQuerier("clean", st), opt)
	if err != nil {
		t.Fatal(err)
	}
	if r := fit.LowMeanService / fit.LowMeanResponse; !(r > 0.9 && r <= 1.01) || len(fit.Warnings) > 0 {
		t.Errorf("clean run: service %.4g s over response %.4g s = %.3g, want 0.9 to 1.01; warnings %q", fit.LowMeanService, fit.LowMeanResponse, r, fit.Warnings)
	}
	if _, err := Calibrate(ctx, bucketsOnly(t, st), opt); err != nil {
		t.Errorf("clean run without _sum and _count: %v", err)
	}
	for _, c := range []struct {
		name string
		q    Querier
		want []string
	}{
		{"a fiftieth", NewEngineQuerier("1/50", scaled(1.0/50)), []string{"the mean service time 0.002005 s", "is 0.01 times the mean response time 0.1962 s (http_request_duration_seconds_sum / _count)", "too small", "KS 0.873"}},
		{"three times", NewEngineQuerier("x3", scaled(3)), []string{"the mean service time 0.299 s", "is 3 times the mean response time 0.09958 s", "too large", "counted per slot"}},
		{"a thousand times", NewEngineQuerier("x1000", scaled(1000)), []string{"utilisation above 100% in 160 of 160 intervals of 1m0s (median 30707%, highest 127239%)", "exceeds the slot time available"}},
		{"a fiftieth, buckets only", bucketsOnly(t, scaled(1.0/50)), []string{"is 0.015 times the mean response time 0.1376 s (at least: http_request_duration_seconds_bucket with every request at its bucket's lower bound"}},
		{"three times, buckets only", bucketsOnly(t, scaled(3)), []string{"is 2 times the mean response time 0.1519 s (at most: http_request_duration_seconds_bucket"}},
	} {
		_, err := Calibrate(ctx, c.q, opt)
		if !errors.Is(err, ErrInconsistent) {
			t.Errorf("%s: got %v, want ErrInconsistent", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant it to contain %q", c.name, err, w)
			}
		}
	}
}
