package agents

import (
	"testing"

	"github.com/intelliscale/intelliscale/sim"
)

func TestTimeZeroHolds(t *testing.T) {
	for _, name := range []string{"threshold", "hpa", "kpa", "predictive"} {
		a := newTest(t, name, "", testCtx())
		obs := sim.Observation{Ready: 3, Desired: 3, MinReplicas: 1, MaxReplicas: 20}
		if got := a.Decide(obs); got != 3 {
			t.Errorf("%s at time zero (empty window): got %d, want 3", name, got)
		}
	}
}

// TestPoliciesInSimulator runs every policy over a step trace: the run is
// deterministic, and the oracle is never under-provisioned by more than noise while
// the under-provisioned static baseline is.
func TestPoliciesInSimulator(t *testing.T) {
	ctx := testCtx()
	ctx.Trace = stepTrace()
	ctx.Sim.MaxReplicas = 50
	ctx.Sim.Seed = 7
	res := map[string]*sim.Result{}
	for _, name := range Names() {
		var out [2]*sim.Result
		for i := range out {
			a := newTest(t, name, "", ctx)
			r, err := sim.Run(ctx.Sim, ctx.Trace, a)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out[i] = r
		}
		if out[0].Summary != out[1].Summary {
			t.Errorf("%s: two runs differ: %+v vs %+v", name, out[0].Summary, out[1].Summary)
		}
		res[name] = out[0]
		s := out[0].Summary
		t.Logf("%-10s tauU %5.1f tauO %5.1f thetaU %5.1f thetaO %6.1f acc %5.1f slo %5.2f%% cost %.3f actions %d",
			name, s.TauU, s.TauO, s.ThetaU, s.ThetaO, s.Accuracy, s.SLOViolations, s.Cost, s.ScalingActions)
	}
	if o, st := res["oracle"].Summary, res["static"].Summary; !(o.SLOViolations < st.SLOViolations && o.TauU < st.TauU) {
		t.Errorf("oracle (violations %v%%, tauU %v) not better than static at min (violations %v%%, tauU %v)",
			o.SLOViolations, o.TauU, st.SLOViolations, st.TauU)
	}
	if o, h := res["oracle"].Summary, res["hpa"].Summary; o.SLOViolations > h.SLOViolations {
		t.Errorf("oracle violations %v%% above HPA's %v%%", o.SLOViolations, h.SLOViolations)
	}
}
