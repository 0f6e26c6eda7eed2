package agents

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/elasticity"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

const sec = time.Second

func newTest(t *testing.T, name, params string, ctx Context) sim.Autoscaler {
	t.Helper()
	var a sim.Autoscaler
	var err error
	if params == "" {
		a, err = New(name, nil, ctx)
	} else {
		a, err = New(name, node(t, params), ctx)
	}
	if err != nil {
		t.Fatalf("New(%q): %v", name, err)
	}
	return a
}

func TestThresholdCooldown(t *testing.T) {
	a := newTest(t, "threshold", "", testCtx()) // up 0.8, down 0.3, cooldowns 60 s / 300 s
	obs := func(at time.Duration, cur int, util float64) sim.Observation {
		return sim.Observation{Time: at, Window: 15 * sec, Ready: cur, Desired: cur, Utilisation: util, MinReplicas: 1, MaxReplicas: 20}
	}
	steps := []struct {
		at   time.Duration
		cur  int
		util float64
		want int
	}{
		{15 * sec, 2, 0.9, 3},   // first action: no cooldown yet
		{30 * sec, 3, 0.9, 3},   // 15 s after: cooling down
		{60 * sec, 3, 0.9, 3},   // 45 s
		{75 * sec, 3, 0.9, 4},   // 60 s: up again
		{90 * sec, 4, 0.5, 4},   // in band
		{300 * sec, 4, 0.1, 4},  // 225 s after the last action: too early to go down
		{375 * sec, 4, 0.1, 3},  // 300 s: down
		{390 * sec, 3, 0.95, 3}, // 15 s after a scale-down: up waits 60 s
		{435 * sec, 3, 0.95, 4},
		{450 * sec, 1, 0.0, 1}, // min clamp
	}
	for _, s := range steps {
		if got := a.Decide(obs(s.at, s.cur, s.util)); got != s.want {
			t.Errorf("t=%v cur %d util %v: got %d, want %d", s.at, s.cur, s.util, got, s.want)
		}
	}
	a.(Resetter).Reset()
	if got := a.Decide(obs(465*sec, 3, 0.95)); got != 4 {
		t.Errorf("after Reset: got %d, want 4 (no cooldown)", got)
	}
}

func kpaObs(at time.Duration, ready int, util float64, queued int) sim.Observation {
	return sim.Observation{Time: at, Window: 15 * sec, Ready: ready, Desired: ready, Utilisation: util, Queued: queued,
		MinReplicas: 1, MaxReplicas: 100}
}

func TestKPAStableAndPanic(t *testing.T) {
	// Slots 4: target 2.8 per replica. Stable window 60 s = 4 decisions; panic window
	// 6 s < 15 s = the last decision.
	k := newTest(t, "kpa", "", testCtx()).(*KPA)
	if k.p.Target != 2.8 || len(k.history) != 4 {
		t.Fatalf("target %v, history %d", k.p.Target, len(k.history))
	}
	// Steady: 4 ready, 8 busy slots (util 0.5): ceil(8/2.8) = 3.
	if got := k.Decide(kpaObs(15*sec, 4, 0.5, 0)); got != 3 || k.InPanic() {
		t.Fatalf("steady: got %d panic %v, want 3 no panic", got, k.InPanic())
	}
	// Just under the panic threshold: 2 ready, concurrency 11 -> 11/2.8/2 = 1.96.
	k.Reset()
	if got := k.Decide(kpaObs(15*sec, 2, 1, 3)); k.InPanic() || got != 4 {
		t.Fatalf("below threshold: got %d panic %v, want 4 no panic", got, k.InPanic())
	}
	// Over: concurrency 12 -> 12/2.8/2 = 2.14 >= 2: panic, ceil(12/2.8) = 5.
	k.Reset()
	if got := k.Decide(kpaObs(15*sec, 2, 1, 4)); !k.InPanic() || got != 5 {
		t.Fatalf("panic entry: got %d panic %v, want 5 in panic", got, k.InPanic())
	}
	// Load vanishes: in panic the count never goes down; panic ends once the stable
	// window (60 s) has passed since the panic condition last held (15 s).
	for at := 30 * sec; at <= 75*sec; at += 15 * sec {
		if got := k.Decide(kpaObs(at, 5, 0, 0)); got != 5 || !k.InPanic() {
			t.Fatalf("t=%v: got %d panic %v, want 5 in panic", at, got, k.InPanic())
		}
	}
	// t = 90 s: 75 s > 60 s after the last panic: stable again. Stable mean over the
	// last 4 decisions is 0; down-rate limit floor(5/2) = 2.
	if got := k.Decide(kpaObs(90*sec, 5, 0, 0)); got != 2 || k.InPanic() {
		t.Fatalf("un-panic: got %d panic %v, want 2 out of panic", got, k.InPanic())
	}
}

func TestKPARateLimits(t *testing.T) {
	k := newTest(t, "kpa", "max_scale_up_rate: 1.5\npanic_threshold: 1000\n", testCtx()).(*KPA)
	// 2 ready, concurrency 8 + 100 queued -> 39 wanted, limited to ceil(1.5*2) = 3.
	if got := k.Decide(kpaObs(15*sec, 2, 1, 100)); got != 3 {
		t.Errorf("scale-up limit: got %d, want 3", got)
	}
	k = newTest(t, "kpa", "", testCtx()).(*KPA)
	// 10 ready, idle: down to floor(10/2) = 5, not 1.
	if got := k.Decide(kpaObs(15*sec, 10, 0, 0)); got != 5 {
		t.Errorf("scale-down limit: got %d, want 5", got)
	}
}

func TestHoltWintersLinearRamp(t *testing.T) {
	hw := NewHoltWinters(0.5, 0.1, 0, 0)
	for i := range 200 {
		hw.Update(10 + 2*float64(i))
	}
	// Last value 408 at i = 199; h steps ahead the ramp is at 408 + 2h.
	for _, h := range []int{1, 3, 10} {
		want := 408 + 2*float64(h)
		if got := hw.Forecast(h); math.Abs(got-want) > 1e-6 {
			t.Errorf("Forecast(%d) = %v, want %v", h, got, want)
		}
	}
}

func TestHoltWintersSeason(t *testing.T) {
	pattern := []float64{10, 50, 30, 20}
	hw := NewHoltWinters(0.3, 0.05, 0.5, len(pattern))
	for i := range 400 {
		hw.Update(pattern[i%4])
	}
	// After index 399 (phase 3) the next values are phases 0, 1, 2.
	for h := 1; h <= 3; h++ {
		want := pattern[(399+h)%4]
		if got := hw.Forecast(h); math.Abs(got-want) > 0.5 {
			t.Errorf("Forecast(%d) = %v, want about %v", h, got, want)
		}
	}
}

func TestPredictiveProvisionsAhead(t *testing.T) {
	ctx := testCtx()
	ctx.Sim.MaxReplicas = 100
	a := newTest(t, "predictive", "headroom: 0.1\n", ctx).(*Predictive)
	if a.Horizon() != 3 { // ceil(30 s / 15 s) + 1
		t.Fatalf("horizon %d, want 3", a.Horizon())
	}
	cfg := ctx.Sim
	_ = cfg.Validate()
	q := cfg.QueueModel()
	var got int
	for i := range 100 {
		got = a.Decide(sim.Observation{Time: time.Duration(i+1) * 15 * sec, Window: 15 * sec, ArrivalRate: 10 + 5*float64(i), MinReplicas: 1, MaxReplicas: 100})
	}
	// Last rate 505; 3 steps ahead 520; provision for 520 * 1.1.
	want := elasticity.Demand(q, 520*1.1)
	if got != want {
		t.Errorf("ramp: got %d, want Demand(572) = %d", got, want)
	}
	if now := elasticity.Demand(q, 505); got <= now {
		t.Errorf("ramp: %d not ahead of the current demand %d", got, now)
	}
	// A sudden drop: never below the demand of the observed rate.
	a.Reset()
	a.Decide(sim.Observation{Time: 15 * sec, Window: 15 * sec, ArrivalRate: 300, MaxReplicas: 100})
	got = a.Decide(sim.Observation{Time: 30 * sec, Window: 15 * sec, ArrivalRate: 400, MaxReplicas: 100})
	if got < elasticity.Demand(q, 400) {
		t.Errorf("below current demand: %d < %d", got, elasticity.Demand(q, 400))
	}
}

func stepTrace() *traces.Trace {
	// 10 req/s for 300 s, then 200 req/s for 300 s, then 10 again, 15 s buckets.
	r := make([]float64, 60)
	for i := range r {
		r[i] = 10
		if i >= 20 && i < 40 {
			r[i] = 200
		}
	}
	return &traces.Trace{Name: "step", Bucket: 15 * sec, Rates: r}
}

func TestOracleStep(t *testing.T) {
	ctx := testCtx()
	ctx.Trace = stepTrace()
	ctx.Sim.MaxReplicas = 50 // startup delay 30 s constant, control interval 15 s
	o := newTest(t, "oracle", "", ctx)
	cfg := ctx.Sim
	_ = cfg.Validate()
	q := cfg.QueueModel()
	low, high := elasticity.Demand(q, 10), elasticity.Demand(q, 200)
	if low >= high {
		t.Fatalf("demands %d, %d", low, high)
	}
	for at := 15 * sec; at <= 900*sec; at += 15 * sec {
		got := o.Decide(sim.Observation{Time: at, MinReplicas: 1, MaxReplicas: 50})
		want := low
		// Up exactly one start-up delay before the step at 300 s; down only once the
		// window [t, t+45 s) lies after the step down at 600 s.
		if at >= 270*sec && at < 600*sec {
			want = high
		}
		if got != want {
			t.Errorf("t=%v: got %d, want %d", at, got, want)
		}
	}
}

func TestOracleCoversDemand(t *testing.T) {
	// Replay decisions through a minimal lifecycle (start-up D, immediate removal of
	// the newest replicas) and check supply >= demand in every interval after D + I.
	ctx := testCtx()
	ctx.Sim.MaxReplicas = 60
	ctx.Sim.StartupDelay = sim.Dist{Kind: "constant", Mean: 40}
	rates := make([]float64, 200)
	for i := range rates {
		rates[i] = 130 + 90*math.Sin(float64(i)/7) + 40*math.Sin(float64(i)*1.3)
	}
	ctx.Trace = &traces.Trace{Name: "wave", Bucket: 10 * sec, Rates: rates}
	o := newTest(t, "oracle", "", ctx)
	cfg := ctx.Sim
	_ = cfg.Validate()
	q := cfg.QueueModel()
	iv, d := 15*sec, 40*sec
	var readyAt []time.Duration // one per replica, sorted ascending
	for k := 1; k*15 < 2000; k++ {
		at := time.Duration(k) * iv
		want := o.Decide(sim.Observation{Time: at, MinReplicas: 1, MaxReplicas: 60})
		for len(readyAt) < want {
			readyAt = append(readyAt, at+d)
		}
		readyAt = readyAt[:want]
		if at < d+iv {
			continue
		}
		// Interval k = [at, at+I): replicas ready for all of it.
		supply := 0
		for _, r := range readyAt {
			if r <= at {
				supply++
			}
		}
		// Any later decision only adds replicas ready after at + I or removes from
		// the newest, so this interval's supply is final unless a removal happens at
		// at + I, which belongs to the next interval.
		dem := elasticity.Demand(q, MeanRate(ctx.Trace, at, at+iv))
		if supply < dem {
			t.Errorf("interval at %v: supply %d < demand %d", at, supply, dem)
		}
	}
}

func TestMeanRate(t *testing.T) {
	tr := &traces.Trace{Bucket: 10 * sec, Rates: []float64{1, 3, 5}}
	cases := []struct {
		a, b time.Duration
		want float64
	}{
		{0, 10 * sec, 1},
		{5 * sec, 15 * sec, 2},
		{0, 30 * sec, 3},
		{25 * sec, 35 * sec, 2.5}, // half beyond the end counts as 0
		{40 * sec, 50 * sec, 0},
	}
	for _, tc := range cases {
		if got := MeanRate(tr, tc.a, tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("MeanRate(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestOracleLastPartialInterval: a trace that ends inside a control interval makes the
// simulator's last window partial, and its demand is that of the rate over the part
// that exists. The oracle must not average that rate over the missing rest.
func TestOracleLastPartialInterval(t *testing.T) {
	ctx := testCtx()
	ctx.Sim.StartupDelay = sim.Dist{Kind: "constant", Mean: 0}
	// 100 s at 80 req/s: the last 15 s interval, [90 s, 105 s), has 10 s of trace.
	ctx.Trace = &traces.Trace{Name: "short", Bucket: 10 * sec, Rates: []float64{80, 80, 80, 80, 80, 80, 80, 80, 80, 80}}
	o := newTest(t, "oracle", "", ctx)
	cfg := ctx.Sim
	_ = cfg.Validate()
	want := elasticity.Demand(cfg.QueueModel(), 80)
	if diluted := elasticity.Demand(cfg.QueueModel(), 80*10.0/15); diluted >= want {
		t.Fatalf("test set-up: demand %d at 80/s, %d diluted", want, diluted)
	}
	for _, at := range []time.Duration{75 * sec, 90 * sec} {
		if got := o.Decide(sim.Observation{Time: at, MinReplicas: 1, MaxReplicas: 20}); got != want {
			t.Errorf("t=%v: got %d, want %d (demand at 80/s)", at, got, want)
		}
	}
}

func TestThresholdStepPercentScales(t *testing.T) {
	a := newTest(t, "threshold", "step_percent: 10\nstep: 2\ncooldown_up: 0s\ncooldown_down: 0s\n", testCtx())
	for _, c := range []struct {
		cur  int
		util float64
		want int
	}{
		{3, 0.9, 5},     // 10% of 3 rounds up to 1; the floor step 2 wins
		{100, 0.9, 110}, // +10
		{101, 0.9, 112}, // ceil(10.1) = 11
		{300, 0.1, 270}, // -30
	} {
		obs := sim.Observation{Time: 15 * sec, Window: 15 * sec, Ready: c.cur, Desired: c.cur, Utilisation: c.util, MinReplicas: 1, MaxReplicas: 400}
		if got := a.Decide(obs); got != c.want {
			t.Errorf("cur %d util %v: got %d, want %d", c.cur, c.util, got, c.want)
		}
	}
	if _, err := New("threshold", node(t, "step_percent: 150"), testCtx()); err == nil || !strings.Contains(err.Error(), "step_percent") {
		t.Errorf("step_percent 150: err %v", err)
	}
}
