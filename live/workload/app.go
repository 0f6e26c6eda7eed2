// Package workload is the demo workload of the live stack: the app (worker slots, a
// bounded queue and the service-time distributions of the simulator), a
// least-outstanding load balancer and an open-loop load generator that replays a trace.
package workload

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/intelliscale/intelliscale/sim"
)

// AppConfig configures the workload service. The zero value of a field means its default.
type AppConfig struct {
	// Slots is the number of requests served at once (worker slots). Default 4.
	Slots int
	// Queue is the number of requests that may wait for a slot; an arrival finding the
	// queue full is answered 503. Default 100.
	Queue int
	// Timeout per request from its arrival; a request not finished by then is answered
	// 504. Default 10s.
	Timeout time.Duration
	// ServiceDist is the service-time distribution: exponential (default), lognormal or
	// constant.
	ServiceDist string
	// ServiceMean is the mean service time. Default 100ms.
	ServiceMean time.Duration
	// ServiceCV is the coefficient of variation of lognormal service times. Default 1.
	ServiceCV float64
	// Work is what a request does for its service time: sleep (default: waiting, as on
	// a downstream call) or cpu (busy computation).
	Work string
	// StartupDelay is how long /ready answers 503 after start, modelling warm-up.
	// Default 0.
	StartupDelay time.Duration
	// Seed of the service-time random source. Default 1.
	Seed uint64
}

// Validate fills defaults and rejects bad values.
func (c *AppConfig) Validate() error {
	if c.Slots == 0 {
		c.Slots = 4
	}
	if c.Queue == 0 {
		c.Queue = 100
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.ServiceDist == "" {
		c.ServiceDist = "exponential"
	}
	if c.ServiceMean == 0 {
		c.ServiceMean = 100 * time.Millisecond
	}
	if c.ServiceCV == 0 {
		c.ServiceCV = 1
	}
	if c.Work == "" {
		c.Work = "sleep"
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	switch {
	case c.Slots < 0:
		return fmt.Errorf("app: slots %d: must be > 0", c.Slots)
	case c.Queue < 0:
		return fmt.Errorf("app: queue %d: must be >= 0", c.Queue)
	case c.Timeout < 0:
		return fmt.Errorf("app: timeout %v: must be > 0", c.Timeout)
	case c.ServiceMean < 0:
		return fmt.Errorf("app: service mean %v: must be > 0", c.ServiceMean)
	case c.ServiceCV < 0 || math.IsNaN(c.ServiceCV) || math.IsInf(c.ServiceCV, 0):
		return fmt.Errorf("app: service cv %v: must be finite and > 0", c.ServiceCV)
	case c.StartupDelay < 0:
		return fmt.Errorf("app: startup delay %v: must be >= 0", c.StartupDelay)
	}
	switch c.ServiceDist {
	case sim.Exponential, sim.LogNormal, sim.Constant:
	default:
		return fmt.Errorf("app: service distribution %q: want exponential, lognormal or constant", c.ServiceDist)
	}
	if err := c.dist().Validate("app: service"); err != nil {
		return err
	}
	switch c.Work {
	case "sleep", "cpu":
	default:
		return fmt.Errorf("app: work %q: want sleep or cpu", c.Work)
	}
	return nil
}

// dist is the service-time distribution in the simulator's terms: the app draws its
// service times with sim.Dist.Sample, so that live and simulated service times come
// from one piece of code.
func (c AppConfig) dist() sim.Dist {
	d := sim.Dist{Kind: c.ServiceDist, Mean: c.ServiceMean.Seconds()}
	if c.ServiceDist == sim.LogNormal {
		d.CV = c.ServiceCV
	}
	return d
}

// App is the workload service: a bounded queue in front of a fixed number of worker
// slots, with the metrics the policies' features read.
type App struct {
	cfg     AppConfig
	slots   chan struct{}
	waiting atomic.Int64 // queued plus in service
	started time.Time
	ready   atomic.Bool
	drain   atomic.Bool

	mu   sync.Mutex
	rng  *rand.Rand
	dist sim.Dist

	// work performs one request's service for d; it returns early with ctx's error.
	work func(ctx context.Context, d time.Duration) error

	requests *prometheus.CounterVec
	duration prometheus.Histogram
	busy     prometheus.Counter
	slotsG   prometheus.Gauge
	inFlight prometheus.Gauge
	queued   prometheus.Gauge
	life     *lifecycle
	registry *prometheus.Registry
}

// NewApp validates cfg and returns the service, its metrics in a registry of its own.
// now is the start time that StartupDelay counts from.
func NewApp(cfg AppConfig, now time.Time) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{
		cfg:     cfg,
		slots:   make(chan struct{}, cfg.Slots),
		started: now,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x1a2b3c)),
		dist:    cfg.dist(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "Requests answered, by status code.",
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "Response time of completed requests, from arrival.",
			Buckets: prometheus.DefBuckets,
		}),
		busy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "app_worker_busy_seconds_total", Help: "Worker-slot seconds spent serving requests.",
		}),
		slotsG: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "app_worker_slots", Help: "Worker slots of this replica while it is ready.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight", Help: "Requests queued or in service.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_queued", Help: "Requests waiting for a worker slot.",
		}),
		life:     newLifecycle(cfg, now),
		registry: prometheus.NewRegistry(),
	}
	if cfg.Work == "cpu" {
		a.work = spin
	} else {
		a.work = sleep
	}
	for _, code := range []string{"200", "503", "504"} {
		a.requests.WithLabelValues(code)
	}
	a.registry.MustRegister(a.requests, a.duration, a.busy, a.slotsG, a.inFlight, a.queued,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	a.registry.MustRegister(a.life.collectors()...)
	a.Tick(now)
	return a, nil
}

// Registry holds the service's metrics.
func (a *App) Registry() *prometheus.Registry { return a.registry }

// Tick updates readiness at time now: the service becomes ready once StartupDelay has
// passed, unless it is draining.
func (a *App) Tick(now time.Time) {
	r := !a.drain.Load() && now.Sub(a.started) >= a.cfg.StartupDelay
	a.ready.Store(r)
	a.life.tick(now, r)
	if r {
		a.slotsG.Set(float64(a.cfg.Slots))
	} else {
		a.slotsG.Set(0)
	}
}

// Drain marks the service as leaving: /ready answers 503 and its slots stop counting.
// Requests already accepted are still served.
func (a *App) Drain() {
	a.drain.Store(true)
	a.ready.Store(false)
	a.slotsG.Set(0)
}

// Handler serves /metrics, /ready, /healthz, and the work on every other path.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("/", a.serve)
	return mux
}

func (a *App) serve(w http.ResponseWriter, r *http.Request) {
	arrival := time.Now()
	if n := a.waiting.Add(1); n > int64(a.cfg.Slots+a.cfg.Queue) {
		a.waiting.Add(-1)
		a.answer(w, http.StatusServiceUnavailable)
		return
	}
	a.inFlight.Inc()
	a.queued.Inc()
	defer func() {
		a.waiting.Add(-1)
		a.inFlight.Dec()
	}()
	ctx, cancel := context.WithDeadline(r.Context(), arrival.Add(a.cfg.Timeout))
	defer cancel()
	select {
	case a.slots <- struct{}{}:
		a.queued.Dec()
	case <-ctx.Done():
		a.queued.Dec()
		a.answer(w, http.StatusGatewayTimeout)
		return
	}
	d := a.serviceTime()
	begin := time.Now()
	err := a.work(ctx, d)
	a.busy.Add(time.Since(begin).Seconds())
	<-a.slots
	if err != nil {
		a.answer(w, http.StatusGatewayTimeout)
		return
	}
	a.duration.Observe(time.Since(arrival).Seconds())
	a.answer(w, http.StatusOK)
}

// serviceTime draws one service time.
func (a *App) serviceTime() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return time.Duration(a.dist.Sample(a.rng) * float64(time.Second))
}

func (a *App) answer(w http.ResponseWriter, code int) {
	a.requests.WithLabelValues(fmt.Sprint(code)).Inc()
	w.WriteHeader(code)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// spin keeps one CPU busy for d, checking ctx every few microseconds of work.
func spin(ctx context.Context, d time.Duration) error {
	end := time.Now().Add(d)
	x := 1.0
	for time.Now().Before(end) {
		for i := 0; i < 2000; i++ {
			x = math.Sqrt(x + float64(i))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if x < 0 { // keeps the loop from being optimised away
		return errors.New("unreachable")
	}
	return nil
}
