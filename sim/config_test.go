package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/internal/yamldoc"
	"github.com/intelliscale/intelliscale/traces"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{
		ServiceTime: Dist{Kind: Exponential, Mean: 0.1}, Timeout: 10 * time.Second,
		QueueCapacity: new(100), Concurrency: 4, StartupDelay: Dist{Kind: Constant, Mean: 30},
		DrainGrace: 30 * time.Second, MinReplicas: new(1), MaxReplicas: 50, InitialReplicas: 1,
		Balancer: LeastOutstanding, ControlInterval: 15 * time.Second, ScrapeInterval: 15 * time.Second,
		SLO: SLO{Latency: 500 * time.Millisecond, Target: 0.95}, CostPerReplicaHour: 1,
	}
	if c.ServiceTime.Kind != want.ServiceTime.Kind || c.ServiceTime.Mean != want.ServiceTime.Mean ||
		c.StartupDelay.Kind != want.StartupDelay.Kind || c.StartupDelay.Mean != want.StartupDelay.Mean {
		t.Errorf("distributions %+v %+v", c.ServiceTime, c.StartupDelay)
	}
	// Validate is idempotent.
	again := c
	if err := again.Validate(); err != nil || !reflect.DeepEqual(again, c) {
		t.Errorf("second Validate: %v, %+v", err, again)
	}
	c.ServiceTime, c.StartupDelay, want.ServiceTime, want.StartupDelay = Dist{}, Dist{}, Dist{}, Dist{}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", c, want)
	}
	// Scrape interval defaults to the control interval when 15 s does not divide it.
	c = Config{ControlInterval: 10 * time.Second, MinReplicas: new(3)}
	if err := c.Validate(); err != nil || c.ScrapeInterval != 10*time.Second || c.InitialReplicas != 3 {
		t.Errorf("scrape %v initial %d err %v", c.ScrapeInterval, c.InitialReplicas, err)
	}
	// Zero is said with a pointer: scale to zero and a zero-length queue.
	c = Config{MinReplicas: new(0), QueueCapacity: new(0)}
	if err := c.Validate(); err != nil || *c.MinReplicas != 0 || c.InitialReplicas != 0 || *c.QueueCapacity != 0 {
		t.Errorf("explicit zeros: %v %+v", err, c)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		cfg   Config
		field string
		msg   string
	}{
		{Config{Concurrency: -1}, "concurrency", "concurrency: -1: must be at least 1"},
		{Config{Concurrency: 1 << 20}, "concurrency", "concurrency: 1048576: must be at most 10000"},
		{Config{QueueCapacity: new(-5)}, "queue_capacity", "queue_capacity: -5: must be at least 0"},
		{Config{Timeout: -time.Second}, "timeout", "timeout: -1s: must be at least 1ms"},
		{Config{DrainGrace: -time.Second}, "drain_grace", ""},
		{Config{MinReplicas: new(5), MaxReplicas: 3}, "min_replicas", "min_replicas: 5: must be in [0, max_replicas] = [0, 3]"},
		{Config{MinReplicas: new(-1)}, "min_replicas", ""},
		{Config{MaxReplicas: 1 << 20}, "max_replicas", "max_replicas: 1048576: must be at most 10000"},
		{Config{MinReplicas: new(2), MaxReplicas: 4, InitialReplicas: 5}, "initial_replicas", ""},
		{Config{MinReplicas: new(2), MaxReplicas: 4, InitialReplicas: 1}, "initial_replicas", ""},
		{Config{Balancer: "fastest"}, "balancer", `balancer: "fastest": must be one of least-outstanding, round-robin, random`},
		{Config{ControlInterval: time.Nanosecond}, "control_interval", "control_interval: 1ns: must be at least 100ms"},
		{Config{ControlInterval: time.Microsecond}, "control_interval", "control_interval: 1µs: must be at least 100ms"},
		{Config{ControlInterval: -time.Second}, "control_interval", ""},
		{Config{ControlInterval: 2 * time.Hour}, "control_interval", "control_interval: 2h: must be at most 1h"},
		{Config{ControlInterval: 15 * time.Second, ScrapeInterval: 10 * time.Second}, "scrape_interval", "scrape_interval: 10s: must divide control_interval (15s)"},
		{Config{ScrapeInterval: time.Nanosecond}, "scrape_interval", "scrape_interval: 1ns: must be at least 100ms"},
		{Config{ScrapeInterval: -time.Second}, "scrape_interval", ""},
		{Config{ScrapeInterval: time.Minute}, "scrape_interval", "scrape_interval: 1m: must be at most 15s"},
		{Config{SLO: SLO{Target: 1.5}}, "slo.target", ""},
		{Config{SLO: SLO{Latency: -1}}, "slo.latency", ""},
		{Config{CostPerReplicaHour: -1}, "cost_per_replica_hour", ""},
		{Config{CostPerReplicaHour: math.NaN()}, "cost_per_replica_hour", ""},
		{Config{ServiceTime: Dist{Kind: "weibull", Mean: 1}}, "service_time.kind", ""},
		{Config{ServiceTime: Dist{Mean: 1}}, "service_time.kind", ""},
		{Config{ServiceTime: Dist{Kind: Exponential}}, "service_time.mean", ""},
		{Config{ServiceTime: Dist{Kind: Exponential, Mean: 1e-12}}, "service_time.mean", ""},
		{Config{ServiceTime: Dist{Kind: Constant}}, "service_time.mean", ""},
		{Config{ServiceTime: Dist{Kind: LogNormal, Mean: 1}}, "service_time.cv", ""},
		{Config{ServiceTime: Dist{Kind: Exponential, Mean: 1, CV: 2}}, "service_time.cv", ""},
		{Config{ServiceTime: Dist{Kind: Empirical}}, "service_time.samples", ""},
		{Config{ServiceTime: Dist{Kind: Empirical, Samples: []float64{0.1, -1}}}, "service_time.samples[1]", ""},
		{Config{ServiceTime: Dist{Kind: Empirical, Samples: []float64{0, 0}}}, "service_time.mean", ""},
		{Config{StartupDelay: Dist{Kind: Constant, Mean: math.Inf(1)}}, "startup_delay.mean", ""},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		var ce *yamldoc.FieldError
		if !errors.As(err, &ce) {
			t.Errorf("%+v: error %v, want a *yamldoc.FieldError", tc.cfg, err)
			continue
		}
		if ce.Path != tc.field {
			t.Errorf("%+v: error names field %q, want %q (%v)", tc.cfg, ce.Path, tc.field, err)
		}
		if tc.msg != "" && err.Error() != tc.msg {
			t.Errorf("error %q, want %q", err, tc.msg)
		}
	}
	// A zero-delay constant start-up is allowed.
	c := Config{StartupDelay: Dist{Kind: Constant}}
	if err := c.Validate(); err != nil {
		t.Errorf("constant 0 start-up delay: %v", err)
	}
}

// TestTinyControlIntervalIsAnError: 1ns once panicked in makeslice and 1us ran out of
// memory; the bound and the step limit make both an error naming the field.
func TestTinyControlIntervalIsAnError(t *testing.T) {
	tr := &traces.Trace{Name: "week", Bucket: time.Minute, Rates: make([]float64, 7*24*60)}
	for _, d := range []time.Duration{time.Nanosecond, time.Microsecond} {
		_, err := Run(Config{ControlInterval: d, ScrapeInterval: d}, tr, AutoscalerFunc(func(Observation) int { return 1 }))
		if err == nil || !strings.HasPrefix(err.Error(), "control_interval: ") {
			t.Errorf("control_interval %v: %v", d, err)
		}
	}
	long := &traces.Trace{Name: "years", Bucket: time.Hour, Rates: make([]float64, 1<<20)}
	_, err := Run(Config{ControlInterval: MinInterval}, long, AutoscalerFunc(func(Observation) int { return 1 }))
	if err == nil || !strings.Contains(err.Error(), "control_interval: 100ms: ") || !strings.Contains(err.Error(), "more than 16777216") {
		t.Errorf("too many steps: %v", err)
	}
}

func TestDecodeConfig(t *testing.T) {
	c, err := DecodeConfig(strings.NewReader(`
seed: 5
service_time: {kind: lognormal, mean: 0.2, cv: 1.5}
timeout: 2s
control_interval: 30s
slo: {latency: 250ms}
min_replicas: 0
queue_capacity: 0
`), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != 5 || c.ServiceTime.CV != 1.5 || c.Timeout != 2*time.Second || c.ControlInterval != 30*time.Second ||
		c.ScrapeInterval != 15*time.Second || c.SLO.Latency != 250*time.Millisecond || c.SLO.Target != 0.95 ||
		*c.MinReplicas != 0 || *c.QueueCapacity != 0 {
		t.Errorf("decoded %+v", c)
	}
	for _, tc := range []struct{ src, want string }{
		{"concurency: 4\n", `s.yaml line 1: concurency: unknown key "concurency"`},
		{"seed: 1\nconcurrency: -2\n", "s.yaml line 2: concurrency: -2: must be at least 1"},
		{"control_interval: 1ns\n", "s.yaml line 1: control_interval: 1ns: must be at least 100ms"},
		{"slo:\n  latency: fast\n", `s.yaml line 2: slo.latency: "fast": not a valid duration`},
	} {
		if _, err := DecodeConfig(strings.NewReader(tc.src), "s.yaml"); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
	if c, err := DecodeConfig(strings.NewReader(""), "s.yaml"); err != nil || c.Concurrency != 4 {
		t.Errorf("empty document: %+v %v", c, err)
	}
}

// TestDist compares sample moments with MeanSeconds and SCV for every kind.
func TestDist(t *testing.T) {
	cases := []struct {
		d        Dist
		mean, sc float64
	}{
		{Dist{Kind: Exponential, Mean: 0.1}, 0.1, 1},
		{Dist{Kind: LogNormal, Mean: 0.2, CV: 0.5}, 0.2, 0.25},
		{Dist{Kind: Constant, Mean: 3}, 3, 0},
		{Dist{Kind: Empirical, Samples: []float64{1, 2, 3, 6}}, 3, 3.5 / 9},
	}
	r := rand.New(rand.NewPCG(1, 1))
	for _, tc := range cases {
		if err := tc.d.Validate("x"); err != nil {
			t.Fatal(err)
		}
		if m, s := tc.d.MeanSeconds(), tc.d.SCV(); math.Abs(m-tc.mean) > 1e-12 || math.Abs(s-tc.sc) > 1e-12 {
			t.Errorf("%+v: mean %v scv %v, want %v %v", tc.d, m, s, tc.mean, tc.sc)
		}
		const n = 200000
		var sum, sq float64
		for range n {
			x := tc.d.Sample(r)
			if x < 0 {
				t.Fatalf("%+v: negative sample %v", tc.d, x)
			}
			sum += x
			sq += x * x
		}
		m := sum / n
		scv := (sq/n - m*m) / (m * m)
		if math.Abs(m-tc.mean) > 0.01*tc.mean || math.Abs(scv-tc.sc) > 0.03*tc.sc+1e-9 {
			t.Errorf("%+v: sample mean %v scv %v, want %v %v", tc.d, m, scv, tc.mean, tc.sc)
		}
	}
}

// TestCapped: the intervals whose demand the replica limit cuts short are those
// elasticity.Demand, counted past the limit, puts above it; the peak is the largest
// of those demands, and limit bounds it.
func TestCapped(t *testing.T) {
	c := Config{MaxReplicas: 5}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	q := c.QueueModel()
	q.MaxReplicas = 1000
	need := func(rate float64) int { return elasticity.Demand(q, rate) }
	var fits, over, most float64
	for r := 0.5; need(r) <= 40; r *= 1.1 {
		switch d := need(r); {
		case d <= 5:
			fits = r
		case d <= 20:
			over = r
		default:
			most = r
		}
	}
	if fits == 0 || over == 0 || most == 0 {
		t.Fatalf("rates not found: %v %v %v", fits, over, most)
	}
	n, peak := c.Capped([]float64{0, fits, over, fits, most, over}, 1000)
	if n != 3 || peak != need(most) {
		t.Errorf("Capped = %d, %d; want 3 intervals, peak %d", n, peak, need(most))
	}
	if n, peak := c.Capped([]float64{0, fits, fits}, 1000); n != 0 || peak != 0 {
		t.Errorf("within the limit: Capped = %d, %d; want 0, 0", n, peak)
	}
	if _, peak := c.Capped([]float64{most}, 8); peak != 8 {
		t.Errorf("peak %d with limit 8, want 8", peak)
	}
}
