package agents

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// ScalesFromZero says what every policy does when run from zero replicas with
// min_replicas 0: those that can serve the step trace's requests, those that
// cannot drop every one of them.
func TestScalesFromZeroMatchesTheRun(t *testing.T) {
	ctx := testCtx()
	ctx.Trace = stepTrace()
	ctx.Sim.MinReplicas = new(0)
	ctx.Sim.MaxReplicas = 50
	var can []string
	for _, name := range Names() {
		params := ""
		if name == "static" {
			params = "n: 3"
		}
		a := newTest(t, name, params, ctx)
		res, err := sim.Run(ctx.Sim, ctx.Trace, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		served := res.Totals.Completed > 0
		if served != ScalesFromZero(name) {
			t.Errorf("%s from zero replicas: %d of %d requests served, but ScalesFromZero is %v",
				name, res.Totals.Completed, res.Totals.Arrived, ScalesFromZero(name))
		}
		if ScalesFromZero(name) {
			can = append(can, name)
		}
	}
	if ScalesFromZero("magic") {
		t.Error("an unknown policy said to scale from zero")
	}
	msg := NoScaleFromZero("policy hpa")
	for _, want := range []string{"min_replicas is 0, and policy hpa cannot scale up from zero replicas", "HPA's ratio rule on zero pods", "(" + strings.Join(can, ", ") + ")"} {
		if !strings.Contains(msg, want) {
			t.Errorf("NoScaleFromZero: %q lacks %q", msg, want)
		}
	}
}

// A season the run is too short to learn is said, by the policy itself; one
// at least twice shorter than the run, or the default, is not. A season not
// shorter than the run decides exactly as no season at all.
func TestPredictiveSeasonWarnings(t *testing.T) {
	ctx := testCtx()
	ctx.Sim.MaxReplicas = 50
	// A service of one second per request, so that a few requests a second take
	// several replicas and the forecast shows in the counts.
	ctx.Sim.ServiceTime = sim.Dist{Kind: sim.Constant, Mean: 1}
	ctx.Sim.SLO.Latency = 2 * time.Second
	rates := make([]float64, 72*60)
	for i := range rates {
		rates[i] = 6 + 5*math.Sin(2*math.Pi*float64(i)/(24*60))
	}
	ctx.Trace = &traces.Trace{Name: "daily", Bucket: time.Minute, Rates: rates}
	for _, tc := range []struct {
		params, want string
	}{
		{"season: 1000h", "season 1000h is not shorter than the run (72h): Holt-Winters learns the seasonal terms over the first season and uses them only after it, so the whole run is forecast by Holt's linear method, as with season 0s"},
		{"season: 72h", "season 72h is not shorter than the run (72h)"},
		{"season: 40h", "season 40h is longer than half the run (72h): Holt-Winters learns the seasonal terms over the first season and uses them only after it, in the last 32h of the run"},
		{"season: 36h", ""},
		{"season: 24h", ""},
		{"season: 0s", ""},
		{"", ""},
	} {
		a := newTest(t, "predictive", tc.params, ctx)
		w, ok := a.(Warner)
		if !ok {
			t.Fatal("predictive is not a Warner")
		}
		got := strings.Join(w.Warnings(), "\n")
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q: warnings %q, want %q", tc.params, got, tc.want)
		}
	}
	// Without a trace there is no run to compare with.
	noTrace := ctx
	noTrace.Trace = nil
	if w := newTest(t, "predictive", "season: 1000h", noTrace).(Warner).Warnings(); len(w) != 0 {
		t.Errorf("no trace: warnings %q", w)
	}

	decisions := func(params string) []int {
		a := newTest(t, "predictive", params, ctx)
		res, err := sim.Run(ctx.Sim, ctx.Trace, a)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int, len(res.Timeline))
		for i, r := range res.Timeline {
			out[i] = r.Desired
		}
		return out
	}
	if !slices.Equal(decisions("season: 1000h"), decisions("season: 0s")) {
		t.Error("season 1000h on a 72h run decides otherwise than season 0s: the warning is wrong")
	}
	if slices.Equal(decisions("season: 40h"), decisions("season: 0s")) {
		t.Error("season 40h on a 72h run decides as season 0s: the test cannot tell")
	}
}
