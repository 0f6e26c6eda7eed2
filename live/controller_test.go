package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/promtest"
)

// fakeClock advances only when slept on.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.After(c.now) {
		c.sleeps = append(c.sleeps, t.Sub(c.now))
		c.now = t
	}
	return nil
}

// fakeProm answers queries from a map; err fails every query.
type fakeProm struct {
	vals  map[string]float64
	err   error
	names []string
	calls int
}

func (p *fakeProm) Query(_ context.Context, q string, _ time.Time) (float64, error) {
	p.calls++
	if p.err != nil {
		return math.NaN(), p.err
	}
	v, ok := p.vals[q]
	if !ok {
		return math.NaN(), fmt.Errorf("query %s: %w", q, ErrNoData)
	}
	return v, nil
}

func (p *fakeProm) MetricNames(context.Context) ([]string, error) { return p.names, p.err }

// fakeScaler holds a replica count; failures makes the next calls fail.
type fakeScaler struct {
	r        Replicas
	failures int
	scales   []int
}

func (s *fakeScaler) Replicas(context.Context) (Replicas, error) {
	if s.failures > 0 {
		s.failures--
		return Replicas{}, errors.New("engine unavailable")
	}
	return s.r, nil
}

func (s *fakeScaler) Target() string { return "fake" }
func (s *fakeScaler) Close() error   { return nil }

func (s *fakeScaler) Scale(_ context.Context, n int) error {
	if s.failures > 0 {
		s.failures--
		return errors.New("engine unavailable")
	}
	s.scales = append(s.scales, n)
	s.r = Replicas{Ready: n}
	return nil
}

// constPolicy proposes want, reading one input.
type constPolicy struct{ want int }

func (p constPolicy) Queries() []string                                  { return []string{"load"} }
func (p constPolicy) Decide(time.Time, []float64, Replicas) (int, error) { return p.want, nil }

func newTestController(t *testing.T, cfg ControllerConfig, p Policy, q *fakeProm, s *fakeScaler) (*Controller, *fakeClock, *bytes.Buffer) {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1000, 0)}
	var log bytes.Buffer
	c, err := NewController(cfg, p, q, s, clock, &log)
	if err != nil {
		t.Fatal(err)
	}
	return c, clock, &log
}

func fresh(vals map[string]float64) map[string]float64 {
	vals[defaultFreshnessQuery] = 1
	return vals
}

func TestLimit(t *testing.T) {
	for _, tc := range []struct{ proposed, current, min, max, step, want int }{
		{10, 2, 1, 5, 2, 4}, // step limit
		{10, 4, 1, 5, 2, 5}, // then max
		{-3, 4, 1, 5, 2, 2}, // step down
		{0, 2, 1, 5, 2, 1},  // min
		{3, 9, 1, 5, 2, 5},  // current above max: bounds win over the step
		{1, 0, 2, 5, 1, 2},  // current below min: bounds win
		{3, 3, 1, 5, 2, 3},  // no change
		{-100, 3, 0, 5, 10, 0},
	} {
		got := limit(tc.proposed, tc.current, tc.min, tc.max, tc.step)
		if got != tc.want {
			t.Errorf("limit(%d, cur %d, [%d,%d], step %d) = %d, want %d", tc.proposed, tc.current, tc.min, tc.max, tc.step, got, tc.want)
		}
		if got < tc.min || got > tc.max {
			t.Errorf("limit left [min, max]: %d", got)
		}
	}
}

func TestStepScalesWithinSafetyRules(t *testing.T) {
	q := &fakeProm{vals: fresh(map[string]float64{"load": 1})}
	s := &fakeScaler{r: Replicas{Ready: 2}}
	c, _, _ := newTestController(t, ControllerConfig{Mode: Enforce, Min: 1, Max: 6, MaxStep: 2}, constPolicy{want: 9}, q, s)
	var got []int
	for i := 0; i < 4; i++ {
		d := c.Step(context.Background())
		got = append(got, d.Target)
		if d.Action == "hold" {
			t.Fatalf("step %d held: %s", i, d.Hold)
		}
	}
	want := []int{4, 6, 6, 6}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("targets %v, want %v (step 2, max 6)", got, want)
	}
	if fmt.Sprint(s.scales) != "[4 6]" {
		t.Errorf("scale calls %v, want [4 6] (none when unchanged)", s.scales)
	}
	if v := promtest.Value(c.desired); v != 6 {
		t.Errorf("intelliscale_desired_replicas = %v, want 6", v)
	}
	if v := promtest.Value(c.decisions.WithLabelValues("up")); v != 2 {
		t.Errorf(`decisions{action="up"} = %v, want 2`, v)
	}
	if v := promtest.Value(c.latency); v != 4 {
		t.Errorf("decision_seconds count = %v, want 4", v)
	}
}

func TestShadowModeNeverScales(t *testing.T) {
	q := &fakeProm{vals: fresh(map[string]float64{"load": 1})}
	s := &fakeScaler{r: Replicas{Ready: 2}}
	c, _, log := newTestController(t, ControllerConfig{Mode: Shadow, Max: 10}, constPolicy{want: 4}, q, s)
	d := c.Step(context.Background())
	if d.Target != 4 || d.Applied || len(s.scales) != 0 {
		t.Errorf("shadow: target %d applied %t scales %v; want target 4, nothing applied", d.Target, d.Applied, s.scales)
	}
	if !strings.Contains(log.String(), "target=4 action=up applied=false") {
		t.Errorf("log lacks the would-be decision: %q", log.String())
	}
}

func TestHoldOnUntrustedInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		prom *fakeProm
		kind string
	}{
		{"prometheus down", &fakeProm{err: errors.New("connection refused")}, errKindPrometheus},
		{"missing", &fakeProm{vals: fresh(map[string]float64{})}, errKindMissing},
		{"NaN", &fakeProm{vals: fresh(map[string]float64{"load": math.NaN()})}, errKindNaN},
		{"Inf", &fakeProm{vals: fresh(map[string]float64{"load": math.Inf(1)})}, errKindNaN},
		{"stale", &fakeProm{vals: map[string]float64{"load": 1, defaultFreshnessQuery: 100}}, errKindStale},
		{"no samples", &fakeProm{vals: map[string]float64{"load": 1}}, errKindStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &fakeScaler{r: Replicas{Ready: 3}}
			c, _, _ := newTestController(t, ControllerConfig{Mode: Enforce, Min: 1, Max: 6, Interval: 10 * time.Second}, constPolicy{want: 1}, tc.prom, s)
			d := c.Step(context.Background())
			if d.Action != "hold" || d.Target != 3 || len(s.scales) != 0 {
				t.Errorf("action %s target %d scales %v: want hold at 3 and no scaling", d.Action, d.Target, s.scales)
			}
			if v := promtest.Value(c.errs.WithLabelValues(tc.kind)); v != 1 {
				t.Errorf("errors{kind=%q} = %v, want 1 (hold: %s)", tc.kind, v, d.Hold)
			}
		})
	}
}

func TestHoldStillEnforcesBounds(t *testing.T) {
	q := &fakeProm{err: errors.New("down")}
	s := &fakeScaler{r: Replicas{Ready: 8}}
	c, _, _ := newTestController(t, ControllerConfig{Mode: Enforce, Min: 1, Max: 5}, constPolicy{want: 8}, q, s)
	if d := c.Step(context.Background()); d.Target != 5 || fmt.Sprint(s.scales) != "[5]" {
		t.Errorf("target %d scales %v: want the count brought back to max 5", d.Target, s.scales)
	}
}

func TestOptionalInputsMayBeNaN(t *testing.T) {
	pol := rule(t, "threshold", "{upper: 0.7, lower: 0.3, cooldown_up: 0s}", testSettings)
	vals := fresh(map[string]float64{})
	for i, q := range pol.Queries() {
		vals[q] = 1
		if pol.Optional(i) {
			vals[q] = math.NaN()
		}
	}
	vals[pol.Queries()[inUtilisation]] = 0.9
	s := &fakeScaler{r: Replicas{Ready: 2}}
	c, _, _ := newTestController(t, ControllerConfig{Mode: Enforce, Min: 1, Max: 5}, pol, &fakeProm{vals: vals}, s)
	d := c.Step(context.Background())
	if d.Action != "up" || d.Target != 3 {
		t.Errorf("action %s target %d hold %q: want up to 3 (NaN latency is optional)", d.Action, d.Target, d.Hold)
	}
	delete(vals, pol.Queries()[inP95]) // an optional input with no series reads NaN too
	if d := c.Step(context.Background()); d.Action == "hold" {
		t.Errorf("held on a missing optional input: %s", d.Hold)
	}
}

func TestScalerErrorsRetriedWithBackoffAndCounted(t *testing.T) {
	q := &fakeProm{vals: fresh(map[string]float64{"load": 1})}
	s := &fakeScaler{r: Replicas{Ready: 1}}
	c, clock, _ := newTestController(t, ControllerConfig{Mode: Enforce, Max: 5, Retries: 3, Backoff: time.Second, MaxBackoff: 3 * time.Second}, constPolicy{want: 2}, q, s)
	s.failures = 0
	// Replicas succeeds; the first three Scale calls fail, the fourth succeeds.
	c.scaler = &flakyScale{fakeScaler: s, fail: 3}
	d := c.Step(context.Background())
	if !d.Applied || d.Target != 2 {
		t.Errorf("applied %t target %d err %v: want applied 2 after retries", d.Applied, d.Target, d.Err)
	}
	if fmt.Sprint(clock.sleeps) != "[1s 2s 3s]" {
		t.Errorf("backoff sleeps %v, want [1s 2s 3s] (doubling, capped)", clock.sleeps)
	}
	if v := promtest.Value(c.errs.WithLabelValues(errKindScaler)); v != 3 {
		t.Errorf("errors{scaler} = %v, want 3", v)
	}
	// Every attempt failing: the decision reports the error, nothing more is done.
	s.r = Replicas{Ready: 1}
	c.scaler = &flakyScale{fakeScaler: s, fail: 100}
	d = c.Step(context.Background())
	if d.Applied || d.Err == nil {
		t.Errorf("all attempts failed but applied=%t err=%v", d.Applied, d.Err)
	}
	if v := promtest.Value(c.errs.WithLabelValues(errKindScaler)); v != 7 {
		t.Errorf("errors{scaler} = %v, want 7 (3 + 4 attempts)", v)
	}
}

type flakyScale struct {
	*fakeScaler
	fail int
}

func (f *flakyScale) Scale(ctx context.Context, n int) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("engine busy")
	}
	return f.fakeScaler.Scale(ctx, n)
}

func TestReplicasUnknownHolds(t *testing.T) {
	q := &fakeProm{vals: fresh(map[string]float64{"load": 1})}
	s := &fakeScaler{r: Replicas{Ready: 2}, failures: 10}
	c, _, _ := newTestController(t, ControllerConfig{Mode: Enforce, Max: 5, Retries: 1}, constPolicy{want: 4}, q, s)
	d := c.Step(context.Background())
	if d.Action != "hold" || len(s.scales) != 0 || q.calls != 0 {
		t.Errorf("action %s scales %v queries %d: want hold without querying or scaling", d.Action, s.scales, q.calls)
	}
}

func TestRunStopsOnCancelAndRestartCarriesOn(t *testing.T) {
	q := &fakeProm{vals: fresh(map[string]float64{"load": 1})}
	s := &fakeScaler{r: Replicas{Ready: 3}}
	c, clock, _ := newTestController(t, ControllerConfig{Mode: Enforce, Min: 1, Max: 5, Interval: 5 * time.Second}, constPolicy{want: 3}, q, s)
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	c.scaler = &countingScaler{Scaler: s, onReplicas: func() {
		steps++
		if steps == 4 { // the start-up read plus three decisions
			cancel()
		}
	}}
	if err := c.Run(ctx); err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if got := clock.now.Sub(time.Unix(1000, 0)); got != 15*time.Second {
		t.Errorf("ran for %v of virtual time, want 3 intervals of 5s", got)
	}
	// A new controller reads the state from the backend: its desired count is the
	// running count, not a default.
	c2, _, _ := newTestController(t, ControllerConfig{Mode: Enforce, Min: 1, Max: 5, Interval: 5 * time.Second}, constPolicy{want: 3}, q, s)
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_ = c2.Run(ctx2)
	if v := promtest.Value(c2.desired); v != 3 {
		t.Errorf("restarted controller desired = %v, want 3 from the backend", v)
	}
}

type countingScaler struct {
	Scaler
	onReplicas func()
}

func (c *countingScaler) Replicas(ctx context.Context) (Replicas, error) {
	c.onReplicas()
	return c.Scaler.Replicas(ctx)
}

func TestControllerConfigRejectsBadValues(t *testing.T) {
	for _, cfg := range []ControllerConfig{
		{Mode: "yolo"}, {Min: 5, Max: 2}, {MaxStep: -1}, {Min: -1}, {Backoff: 10 * time.Second, MaxBackoff: time.Second},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

type failingDrains struct {
	*fakeScaler
	pending []error
}

func (f *failingDrains) Failures() []error {
	out := f.pending
	f.pending = nil
	return out
}

func TestBackgroundFailuresCountedAsScalerErrors(t *testing.T) {
	q := &fakeProm{vals: fresh(map[string]float64{"load": 1})}
	s := &fakeScaler{r: Replicas{Ready: 2}}
	c, _, logw := newTestController(t, ControllerConfig{Mode: Enforce, Max: 5}, constPolicy{want: 2}, q, s)
	f := &failingDrains{fakeScaler: s, pending: []error{errors.New("stop app_3: gone wrong"), errors.New("remove app_3: gone wrong")}}
	c.scaler = f
	c.Step(context.Background())
	if v := promtest.Value(c.errs.WithLabelValues(errKindScaler)); v != 2 {
		t.Errorf("errors{scaler} = %v, want 2 background failures", v)
	}
	if !strings.Contains(logw.String(), "fake: stop app_3: gone wrong") {
		t.Errorf("log lacks the background failure:\n%s", logw)
	}
	c.Step(context.Background())
	if v := promtest.Value(c.errs.WithLabelValues(errKindScaler)); v != 2 {
		t.Errorf("errors{scaler} = %v after a step without failures, want still 2", v)
	}
}
