package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ServiceTime: Dist{Kind: Exponential, Mean: 0.1}, Timeout: 10 * time.Second,
		QueueCapacity: 100, Concurrency: 4, StartupDelay: Dist{Kind: Constant, Mean: 30},
		DrainGrace: 30 * time.Second, MinReplicas: 1, MaxReplicas: 50, InitialReplicas: 1,
		Balancer: LeastOutstanding, ControlInterval: 15 * time.Second, ScrapeInterval: 15 * time.Second,
		SLO: SLO{Latency: 500 * time.Millisecond, Target: 0.95}, CostPerReplicaHour: 1,
	}
	if c.ServiceTime.Kind != want.ServiceTime.Kind || c.ServiceTime.Mean != want.ServiceTime.Mean ||
		c.StartupDelay.Kind != want.StartupDelay.Kind || c.StartupDelay.Mean != want.StartupDelay.Mean {
		t.Errorf("distributions %+v %+v", c.ServiceTime, c.StartupDelay)
	}
	c.ServiceTime, c.StartupDelay, want.ServiceTime, want.StartupDelay = Dist{}, Dist{}, Dist{}, Dist{}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults\n got %+v\nwant %+v", c, want)
	}
	// Scrape interval defaults to the control interval when 15 s does not divide it.
	c, err = Config{ControlInterval: 10 * time.Second, MinReplicas: 3}.Validate()
	if err != nil || c.ScrapeInterval != 10*time.Second || c.InitialReplicas != 3 {
		t.Errorf("scrape %v initial %d err %v", c.ScrapeInterval, c.InitialReplicas, err)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		cfg   Config
		field string
		msg   string
	}{
		{Config{Concurrency: -1}, "concurrency", "sim: concurrency: -1: must be >= 1"},
		{Config{QueueCapacity: -5}, "queue_capacity", ""},
		{Config{Timeout: -time.Second}, "timeout", ""},
		{Config{DrainGrace: -time.Second}, "drain_grace", ""},
		{Config{MinReplicas: 5, MaxReplicas: 3}, "min_replicas", ""},
		{Config{MinReplicas: 2, MaxReplicas: 4, InitialReplicas: 5}, "initial_replicas", ""},
		{Config{MinReplicas: 2, MaxReplicas: 4, InitialReplicas: 1}, "initial_replicas", ""},
		{Config{Balancer: "fastest"}, "balancer", `sim: balancer: "fastest": must be one of least-outstanding, round-robin, random`},
		{Config{ControlInterval: 15 * time.Second, ScrapeInterval: 10 * time.Second}, "scrape_interval", ""},
		{Config{ScrapeInterval: -time.Second}, "scrape_interval", ""},
		{Config{SLO: SLO{Target: 1.5}}, "slo.target", ""},
		{Config{SLO: SLO{Latency: -1}}, "slo.latency", ""},
		{Config{CostPerReplicaHour: -1}, "cost_per_replica_hour", ""},
		{Config{CostPerReplicaHour: math.NaN()}, "cost_per_replica_hour", ""},
		{Config{ServiceTime: Dist{Kind: "weibull", Mean: 1}}, "service_time.kind", ""},
		{Config{ServiceTime: Dist{Mean: 1}}, "service_time.kind", ""},
		{Config{ServiceTime: Dist{Kind: Exponential}}, "service_time.mean", ""},
		{Config{ServiceTime: Dist{Kind: Constant}}, "service_time.mean", ""},
		{Config{ServiceTime: Dist{Kind: LogNormal, Mean: 1}}, "service_time.cv", ""},
		{Config{ServiceTime: Dist{Kind: Exponential, Mean: 1, CV: 2}}, "service_time.cv", ""},
		{Config{ServiceTime: Dist{Kind: Empirical}}, "service_time.samples", ""},
		{Config{ServiceTime: Dist{Kind: Empirical, Samples: []float64{0.1, -1}}}, "service_time.samples[1]", ""},
		{Config{ServiceTime: Dist{Kind: Empirical, Samples: []float64{0, 0}}}, "service_time.mean", ""},
		{Config{StartupDelay: Dist{Kind: Constant, Mean: math.Inf(1)}}, "startup_delay.mean", ""},
	}
	for _, tc := range cases {
		_, err := tc.cfg.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%+v: error %v, want a *ConfigError", tc.cfg, err)
			continue
		}
		if ce.Field != tc.field {
			t.Errorf("%+v: error names field %q, want %q (%v)", tc.cfg, ce.Field, tc.field, err)
		}
		if tc.msg != "" && err.Error() != tc.msg {
			t.Errorf("error %q, want %q", err, tc.msg)
		}
	}
	// A zero-delay constant start-up is allowed.
	if _, err := (Config{StartupDelay: Dist{Kind: Constant}}).Validate(); err != nil {
		t.Errorf("constant 0 start-up delay: %v", err)
	}
}

func TestDecodeConfig(t *testing.T) {
	c, err := DecodeConfig(strings.NewReader(`
seed: 5
service_time: {kind: lognormal, mean: 0.2, cv: 1.5}
timeout: 2s
control_interval: 30s
slo: {latency: 250ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != 5 || c.ServiceTime.CV != 1.5 || c.Timeout != 2*time.Second || c.ControlInterval != 30*time.Second ||
		c.ScrapeInterval != 15*time.Second || c.SLO.Latency != 250*time.Millisecond || c.SLO.Target != 0.95 {
		t.Errorf("decoded %+v", c)
	}
	if _, err := DecodeConfig(strings.NewReader("concurency: 4\n")); err == nil || !strings.Contains(err.Error(), "concurency") {
		t.Errorf("unknown key: error %v", err)
	}
	if _, err := DecodeConfig(strings.NewReader("concurrency: -2\n")); err == nil || !strings.Contains(err.Error(), "concurrency: -2") {
		t.Errorf("bad value: error %v", err)
	}
	if c, err := DecodeConfig(strings.NewReader("")); err != nil || c.Concurrency != 4 {
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
