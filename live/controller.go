package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Replicas counts the scaled service's replicas by state.
type Replicas struct {
	Ready, Provisioning, Draining int
}

// Current is the count a decision starts from: replicas not draining.
func (r Replicas) Current() int { return r.Ready + r.Provisioning }

// Scaler reads and changes the replica count of one workload. The backends are
// live/docker (a Compose service) and live/kubernetes (a Deployment or StatefulSet).
type Scaler interface {
	// Replicas reads the workload's replicas now (from the backend, not from memory, so
	// that a restarted controller carries on).
	Replicas(ctx context.Context) (Replicas, error)
	// Scale makes n replicas not draining: it starts new ones or drains surplus ones.
	Scale(ctx context.Context, n int) error
	// Target names what is scaled, for the log (for example "deployment default/app").
	Target() string
	// Close finishes the work the scaler does in the background (a drain in
	// progress), within a bound of its own, and releases its connections.
	Close() error
}

// BackgroundFailures is implemented by a scaler that finishes part of a change after
// Scale returns (the Docker backend drains replicas in the background). At each step
// the controller counts and logs the failures reported since the last one as scaler
// errors.
type BackgroundFailures interface {
	// Failures returns, and forgets, the failures since the last call.
	Failures() []error
}

// Modes of the controller.
const (
	// Shadow logs and exports what the controller would do, and changes nothing.
	Shadow = "shadow"
	// Enforce scales the service.
	Enforce = "enforce"
)

// defaultFreshnessQuery answers the age, in seconds, of the newest app sample.
const defaultFreshnessQuery = `time() - max(timestamp(app_worker_slots))`

// ControllerConfig configures the controller. The zero value of a field means its
// default.
type ControllerConfig struct {
	// Mode is shadow (default) or enforce.
	Mode string
	// Min and Max bound the replica count, 1 <= Min <= Max. Defaults 1 and 10 (Min 0
	// is unset, not scale to zero: ErrScaleToZero says why the live stack cannot).
	Min, Max int
	// MaxStep is the largest change in replicas per decision. Default 2.
	MaxStep int
	// Interval between decisions. Default 15s.
	Interval time.Duration
	// FreshnessQuery answers the age in seconds of the newest service sample; above
	// MaxAge the inputs are stale and the controller holds. Default
	// defaultFreshnessQuery; "none" disables the check.
	FreshnessQuery string
	// MaxAge of the newest sample. Default 3 times Interval; at least Interval
	// (CheckMaxAge says why).
	MaxAge time.Duration
	// Retries of a failed scaler call within one decision. Default 3.
	Retries int
	// Backoff before the first retry, doubling up to MaxBackoff. Defaults 500ms and 5s.
	Backoff, MaxBackoff time.Duration
	// QueryTimeout bounds each Prometheus query. Default Interval/3.
	QueryTimeout time.Duration
	// ScalerTimeout bounds each call to the scaler (each attempt), so that a backend
	// that accepts the connection and never answers makes the controller count an
	// error and carry on rather than wait for ever. Default the larger of Interval
	// and 30s.
	ScalerTimeout time.Duration
}

// ErrScaleToZero is why the controller keeps at least one replica: at zero replicas
// the app exports no samples, so the inputs are stale and the controller would hold
// at zero; the docker backend has no running replica to copy; and nothing buffers
// the requests that arrive meanwhile (Knative's activator does that). The Kubernetes
// scale subresource accepts 0, but the same first two reasons apply.
var ErrScaleToZero = errors.New("must be >= 1: the live controller cannot scale to zero (at zero replicas the service exports no metrics to scale back up on, and the docker backend has no replica to copy)")

// Validate fills defaults and rejects bad combinations.
func (c *ControllerConfig) Validate() error {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Mode == "" {
		c.Mode = Shadow
	}
	def(&c.Min, 1)
	def(&c.Max, 10)
	def(&c.MaxStep, 2)
	defD(&c.Interval, 15*time.Second)
	if c.FreshnessQuery == "" {
		c.FreshnessQuery = defaultFreshnessQuery
	}
	defD(&c.MaxAge, 3*c.Interval)
	def(&c.Retries, 3)
	defD(&c.Backoff, 500*time.Millisecond)
	defD(&c.MaxBackoff, 5*time.Second)
	defD(&c.QueryTimeout, c.Interval/3)
	defD(&c.ScalerTimeout, max(c.Interval, 30*time.Second))
	switch {
	case c.Mode != Shadow && c.Mode != Enforce:
		return fmt.Errorf("controller: mode %q: want %s or %s", c.Mode, Shadow, Enforce)
	case c.Min < 0:
		return fmt.Errorf("controller: min %d: %w", c.Min, ErrScaleToZero)
	case c.Max < c.Min:
		return fmt.Errorf("controller: min %d, max %d: need 1 <= min <= max", c.Min, c.Max)
	case c.MaxStep < 1:
		return fmt.Errorf("controller: max step %d: must be >= 1", c.MaxStep)
	case c.Interval < 0 || c.MaxAge < 0 || c.Backoff < 0 || c.MaxBackoff < c.Backoff || c.QueryTimeout < 0 || c.ScalerTimeout < 0:
		return fmt.Errorf("controller: interval %v, max age %v, backoff %v..%v, query timeout %v, scaler timeout %v: must be > 0 and backoff <= max backoff",
			c.Interval, c.MaxAge, c.Backoff, c.MaxBackoff, c.QueryTimeout, c.ScalerTimeout)
	case c.Retries < 0:
		return fmt.Errorf("controller: retries %d: must be >= 0", c.Retries)
	}
	if c.FreshnessQuery != "none" {
		if err := CheckMaxAge(c.MaxAge, c.Interval); err != nil {
			return fmt.Errorf("controller: max age %w", err)
		}
	}
	return nil
}

// CheckMaxAge refuses a staleness bound maxAge below the control interval. Between
// two scrapes the newest sample ages up to Prometheus' scrape interval, so a bound
// below that interval holds at every decision that comes late in the scrape cycle,
// for ever when the two intervals keep in step. The controller does not know the
// scrape interval; the control interval is the smallest bound it knows to lie above
// it: the rule policies' inputs are rates over one control interval, which need two
// scrapes in it, and a policy file was trained with a scrape interval of at most its
// control interval. A maxAge of one interval still holds when no sample came since the
// previous decision. The error starts with maxAge, for the caller to prefix its name.
func CheckMaxAge(maxAge, interval time.Duration) error {
	if maxAge < interval {
		return fmt.Errorf("%v: must be at least the control interval (%v): between scrapes the newest sample ages up to Prometheus' scrape interval, which the controller does not know (it is below the control interval wherever the policy's inputs can be read), and a bound under it holds for ever", maxAge, interval)
	}
	return nil
}

// limit applies the safety rules to a proposal: at most maxStep away from current, then
// within [min, max] (the bounds win over the step limit).
func limit(proposed, current, min, max, maxStep int) int {
	// current±maxStep saturate rather than wrap: a step as large as the int range
	// (meaning "no step limit") must not turn a scale-up into one to min.
	lo, hi := current-maxStep, current+maxStep
	if maxStep > 0 && lo > current {
		lo = math.MinInt
	}
	if maxStep > 0 && hi < current {
		hi = math.MaxInt
	}
	return clampInt(clampInt(proposed, lo, hi), min, max)
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Error kinds counted in intelliscale_errors_total{kind}.
const (
	errKindPrometheus = "prometheus" // a query failed
	errKindMissing    = "missing"    // a query answered no series
	errKindNaN        = "nan"        // a query answered NaN or an infinity
	errKindStale      = "stale"      // the newest sample is older than MaxAge
	errKindPolicy     = "policy"     // the policy failed
	errKindScaler     = "scaler"     // a call to the scaler's backend failed (each attempt)
)

// Decision is what one control step saw and did.
type Decision struct {
	Time     time.Time
	Replicas Replicas
	Inputs   []float64
	// Proposed is the policy's answer (-1 when it was not asked).
	Proposed int
	// Target is the replica count after the safety rules.
	Target int
	// Hold is set, with the reason, when the inputs could not be trusted.
	Hold   string
	Action string // up, down, none or hold
	// Applied is set when the target was sent to the scaler and it succeeded.
	Applied bool
	// Latency of reading inputs and deciding.
	Latency time.Duration
	Err     error
}

func (d Decision) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "decision ready=%d provisioning=%d draining=%d proposed=%d target=%d action=%s applied=%t latency=%s",
		d.Replicas.Ready, d.Replicas.Provisioning, d.Replicas.Draining, d.Proposed, d.Target, d.Action, d.Applied, d.Latency.Round(time.Microsecond))
	if d.Hold != "" {
		fmt.Fprintf(&b, " hold=%q", d.Hold)
	}
	if d.Err != nil {
		fmt.Fprintf(&b, " err=%q", d.Err)
	}
	if len(d.Inputs) > 0 {
		fmt.Fprintf(&b, " inputs=%.4g", d.Inputs)
	}
	return b.String()
}

// Controller reads a policy's inputs from Prometheus each interval, decides, applies the
// safety rules and scales the service.
type Controller struct {
	cfg    ControllerConfig
	policy Policy
	prom   Querier
	scaler Scaler
	clock  Clock
	log    io.Writer

	decisions *prometheus.CounterVec
	errs      *prometheus.CounterVec
	latency   prometheus.Histogram
	replicas  *prometheus.GaugeVec
	desired   prometheus.Gauge
	registry  *prometheus.Registry

	mu   sync.Mutex
	last Decision
}

// NewController validates cfg and returns a controller with its metrics in a registry
// of its own. Decisions are logged to logw, one line each.
func NewController(cfg ControllerConfig, p Policy, q Querier, s Scaler, clock Clock, logw io.Writer) (*Controller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if p == nil || q == nil || s == nil || clock == nil {
		return nil, errors.New("controller: policy, querier, scaler and clock are required")
	}
	if logw == nil {
		logw = io.Discard
	}
	c := &Controller{
		cfg: cfg, policy: p, prom: q, scaler: s, clock: clock, log: logw,
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intelliscale_decisions_total", Help: "Control decisions, by action (up, down, none, hold).",
		}, []string{"action"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "intelliscale_errors_total", Help: "Errors by kind: prometheus, missing, nan, stale, policy, scaler.",
		}, []string{"kind"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "intelliscale_decision_seconds", Help: "Time to read the inputs and decide.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		replicas: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "intelliscale_replicas", Help: "Replicas of the scaled service by state.",
		}, []string{"state"}),
		desired: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "intelliscale_desired_replicas", Help: "The replica count in force (the last target).",
		}),
		registry: prometheus.NewRegistry(),
	}
	for _, a := range []string{"up", "down", "none", "hold"} {
		c.decisions.WithLabelValues(a)
	}
	for _, k := range []string{errKindPrometheus, errKindMissing, errKindNaN, errKindStale, errKindPolicy, errKindScaler} {
		c.errs.WithLabelValues(k)
	}
	c.registry.MustRegister(c.decisions, c.errs, c.latency, c.replicas, c.desired,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return c, nil
}

// Registry holds the controller's metrics.
func (c *Controller) Registry() *prometheus.Registry { return c.registry }

// Config returns the configuration in force, defaults filled.
func (c *Controller) Config() ControllerConfig { return c.cfg }

// Last returns the last decision.
func (c *Controller) Last() Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Handler serves /metrics and /healthz (the last decision, 200 while one was made
// within three intervals or none was due yet).
func (c *Controller) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(c.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		last := c.Last()
		if !last.Time.IsZero() && c.clock.Now().Sub(last.Time) > 3*c.cfg.Interval {
			http.Error(w, "no decision for "+c.clock.Now().Sub(last.Time).String(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ok mode=%s last: %s\n", c.cfg.Mode, last)
	})
	return mux
}

// retry runs f up to 1+Retries times with doubling backoff, counting each failure as a
// scaler error.
func (c *Controller) retry(ctx context.Context, what string, f func(context.Context) error) error {
	wait := c.cfg.Backoff
	var err error
	for attempt := 0; attempt <= c.cfg.Retries; attempt++ {
		actx, cancel := context.WithTimeout(ctx, c.cfg.ScalerTimeout)
		err = f(actx)
		cancel()
		if err == nil {
			return nil
		}
		c.errs.WithLabelValues(errKindScaler).Inc()
		if attempt == c.cfg.Retries {
			break
		}
		fmt.Fprintf(c.log, "%s: attempt %d: %v; retrying in %v\n", what, attempt+1, err, wait)
		if c.clock.SleepUntil(ctx, c.clock.Now().Add(wait)) != nil {
			break
		}
		wait = min(2*wait, c.cfg.MaxBackoff)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// inputs reads the freshness and the policy's queries; hold says why they cannot be
// trusted (empty when they can).
func (c *Controller) inputs(ctx context.Context, at time.Time) (in []float64, hold string) {
	query := func(q string) (float64, error) {
		qctx, cancel := context.WithTimeout(ctx, c.cfg.QueryTimeout)
		defer cancel()
		return c.prom.Query(qctx, q, at)
	}
	fail := func(kind string, err error) string {
		c.errs.WithLabelValues(kind).Inc()
		return kind + ": " + err.Error()
	}
	if c.cfg.FreshnessQuery != "none" {
		age, err := query(c.cfg.FreshnessQuery)
		switch {
		case errors.Is(err, ErrNoData):
			return nil, fail(errKindStale, err)
		case err != nil:
			return nil, fail(errKindPrometheus, err)
		case math.IsNaN(age) || age > c.cfg.MaxAge.Seconds():
			return nil, fail(errKindStale, fmt.Errorf("newest sample is %.1fs old, more than %v", age, c.cfg.MaxAge))
		}
	}
	opt, _ := c.policy.(optionalInputs)
	qs := c.policy.Queries()
	in = make([]float64, len(qs))
	for i, q := range qs {
		v, err := query(q)
		optional := opt != nil && opt.Optional(i)
		switch {
		case errors.Is(err, ErrNoData) && optional:
			v = math.NaN()
		// On a hold only the inputs read before the failing one are kept: the
		// decision's log must not show zeros that were never read.
		case errors.Is(err, ErrNoData):
			return in[:i], fail(errKindMissing, fmt.Errorf("input %d: %w", i, err))
		case err != nil:
			return in[:i], fail(errKindPrometheus, fmt.Errorf("input %d: %w", i, err))
		case (math.IsNaN(v) || math.IsInf(v, 0)) && !optional:
			return in[:i], fail(errKindNaN, fmt.Errorf("input %d %s = %v", i, q, v))
		}
		in[i] = v
	}
	return in, ""
}

// Step takes one decision: read the replicas from the scaler and the inputs from
// Prometheus, ask the policy, apply the safety rules and, in enforce mode, scale. When
// the inputs cannot be trusted it holds: the count only moves back inside [Min, Max].
func (c *Controller) Step(ctx context.Context) Decision {
	start := c.clock.Now()
	d := Decision{Time: start, Proposed: -1}
	c.countFailures()
	defer func() {
		c.decisions.WithLabelValues(d.Action).Inc()
		c.mu.Lock()
		c.last = d
		c.mu.Unlock()
		fmt.Fprintln(c.log, d.String())
	}()
	err := c.retry(ctx, "read replicas", func(ctx context.Context) error {
		var err error
		d.Replicas, err = c.scaler.Replicas(ctx)
		return err
	})
	if err != nil {
		d.Action, d.Hold, d.Err = "hold", "replicas unknown", err
		d.Latency = c.clock.Now().Sub(start)
		return d
	}
	c.replicas.WithLabelValues("ready").Set(float64(d.Replicas.Ready))
	c.replicas.WithLabelValues("provisioning").Set(float64(d.Replicas.Provisioning))
	c.replicas.WithLabelValues("draining").Set(float64(d.Replicas.Draining))
	cur := d.Replicas.Current()

	d.Inputs, d.Hold = c.inputs(ctx, start)
	if d.Hold == "" {
		p, err := c.policy.Decide(start, d.Inputs, d.Replicas)
		if err != nil {
			c.errs.WithLabelValues(errKindPolicy).Inc()
			d.Hold = errKindPolicy + ": " + err.Error()
		} else {
			d.Proposed = p
		}
	}
	if d.Hold != "" {
		d.Target = clampInt(cur, c.cfg.Min, c.cfg.Max)
	} else {
		d.Target = limit(d.Proposed, cur, c.cfg.Min, c.cfg.Max, c.cfg.MaxStep)
	}
	d.Latency = c.clock.Now().Sub(start)
	c.latency.Observe(d.Latency.Seconds())
	switch {
	case d.Hold != "":
		d.Action = "hold"
	case d.Target > cur:
		d.Action = "up"
	case d.Target < cur:
		d.Action = "down"
	default:
		d.Action = "none"
	}
	c.desired.Set(float64(d.Target))
	if c.cfg.Mode == Enforce && d.Target != cur {
		d.Err = c.retry(ctx, "scale", func(ctx context.Context) error { return c.scaler.Scale(ctx, d.Target) })
		d.Applied = d.Err == nil
	}
	return d
}

// Run takes a decision every Interval until ctx is done, then returns nil. The first
// one is taken after one interval, once the inputs cover a whole window.
func (c *Controller) Run(ctx context.Context) error {
	// Export the replica counts and a desired count read from the backend at once, so
	// that a restarted controller carries on from what is running.
	rctx, cancel := context.WithTimeout(ctx, c.cfg.ScalerTimeout)
	r, err := c.scaler.Replicas(rctx)
	cancel()
	if err == nil {
		c.replicas.WithLabelValues("ready").Set(float64(r.Ready))
		c.replicas.WithLabelValues("provisioning").Set(float64(r.Provisioning))
		c.replicas.WithLabelValues("draining").Set(float64(r.Draining))
		c.desired.Set(float64(clampInt(r.Current(), c.cfg.Min, c.cfg.Max)))
	} else {
		c.errs.WithLabelValues(errKindScaler).Inc()
		fmt.Fprintf(c.log, "read replicas: %v\n", err)
	}
	next := c.clock.Now()
	for {
		next = next.Add(c.cfg.Interval)
		if c.clock.SleepUntil(ctx, next) != nil {
			return nil
		}
		c.Step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if now := c.clock.Now(); now.Sub(next) > c.cfg.Interval {
			// A slow step (retries): start the next interval from now rather than
			// taking decisions back to back.
			next = now
		}
	}
}

// countFailures counts and logs the scaler's background failures since the last call.
func (c *Controller) countFailures() {
	bf, ok := c.scaler.(BackgroundFailures)
	if !ok {
		return
	}
	for _, err := range bf.Failures() {
		c.errs.WithLabelValues(errKindScaler).Inc()
		fmt.Fprintf(c.log, "%s: %v\n", c.scaler.Target(), err)
	}
}
