package agents

import (
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/sim"
)

func hpaObs(at time.Duration, ready, prov int, util float64) sim.Observation {
	return sim.Observation{Time: at, Window: 15 * time.Second, Ready: ready, Provisioning: prov,
		Desired: ready + prov, Utilisation: util, MinReplicas: 1, MaxReplicas: 100}
}

func TestHPARatioAndTolerance(t *testing.T) {
	cases := []struct {
		name        string
		ready, prov int
		util        float64
		want        int
	}{
		{"at target", 4, 0, 0.6, 4},
		{"within +10%", 4, 0, 0.65, 4},          // ratio 1.083
		{"within -10%", 4, 0, 0.55, 4},          // ratio 0.917
		{"above tolerance", 4, 0, 0.7, 5},       // ceil(4 * 1.167)
		{"exact ratio", 10, 0, 0.9, 15},         // ceil(10 * 1.5)
		{"limited to +4", 3, 0, 1.0, 5},         // ceil(3 * 1.67) = 5 <= max(3+4, 6)
		{"no ready: hold", 0, 3, 0, 3},          // no metric
		{"unready damp: hold", 2, 1, 0.9, 3},    // 1.5 diluted to 1.0: within tolerance
		{"unready damp: up", 2, 1, 1.2, 4},      // 2.0 diluted to 1.33: ceil(1.33*3) = 4
		{"unready reverse: hold", 2, 2, 0.8, 4}, // 1.33 diluted to 0.67: direction flips
	}
	for _, tc := range cases {
		h := NewHPA(DefaultHPAParams())
		if got := h.Decide(hpaObs(15*time.Second, tc.ready, tc.prov, tc.util)); got != tc.want {
			t.Errorf("%s: ready %d prov %d util %v: got %d, want %d", tc.name, tc.ready, tc.prov, tc.util, got, tc.want)
		}
	}
}

func TestHPAScaleUpLimit(t *testing.T) {
	// Scale-up per 15 s: at most max(2x, +4) (Percent 100 and Pods 4, selectPolicy Max).
	p := DefaultHPAParams()
	p.TargetUtilization = 0.05 // recommendation 20x current
	for _, tc := range []struct{ ready, want int }{{1, 5}, {2, 6}, {4, 8}, {10, 20}} {
		h := NewHPA(p)
		if got := h.Decide(hpaObs(15*time.Second, tc.ready, 0, 1)); got != tc.want {
			t.Errorf("ready %d: got %d, want %d", tc.ready, got, tc.want)
		}
	}
	// Successive syncs 15 s apart each get a fresh period: 1 -> 5 -> 10. At the
	// second, 4 pods are still unready: at 0% the ratio 20 dilutes to 4, still a
	// scale-up, to ceil(4*5) = 20, limited to max(5+4, 2*5) = 10.
	h := NewHPA(p)
	got1 := h.Decide(hpaObs(15*time.Second, 1, 0, 1))
	got2 := h.Decide(hpaObs(30*time.Second, 1, 4, 1))
	if got1 != 5 || got2 != 10 {
		t.Errorf("syncs: got %d then %d, want 5 then 10", got1, got2)
	}
	// Within one period (two syncs 5 s apart), the second scale-up is limited by the
	// replicas at the start of the period.
	h = NewHPA(p)
	h.Decide(hpaObs(15*time.Second, 2, 0, 1)) // 2 -> 6
	if got := h.Decide(hpaObs(20*time.Second, 2, 4, 1)); got != 6 {
		t.Errorf("second scale-up within the period: got %d, want 6 (period start 2, limit 6)", got)
	}
}

func TestHPAScaleDownStabilisation(t *testing.T) {
	h := NewHPA(DefaultHPAParams())
	sec := time.Second
	// At t = 15 s the recommendation is 10 (10 ready at target).
	if got := h.Decide(hpaObs(15*sec, 10, 0, 0.6)); got != 10 {
		t.Fatalf("t=15: %d", got)
	}
	// Then 8 (util 0.48 -> ceil(8)) at 30 s, then 5 from 45 s on.
	if got := h.Decide(hpaObs(30*sec, 10, 0, 0.48)); got != 10 {
		t.Fatalf("t=30: got %d, want 10 (max over window)", got)
	}
	for at := 45 * sec; at <= 600*sec; at += 15 * sec {
		cur := 10
		switch {
		case at >= 330*sec:
			cur = 5
		case at >= 315*sec:
			cur = 8
		}
		want := 10
		switch {
		case at >= 330*sec: // the 8 recorded at 30 s has left the window (30 + 300)
			want = 5
		case at >= 315*sec: // the 10 recorded at 15 s has left the window
			want = 8
		}
		// Ready replicas follow the decisions; util keeps the recommendation at 5.
		util := 0.6 * 5 / float64(cur)
		got := h.Decide(hpaObs(at, cur, 0, util))
		if got != want {
			t.Fatalf("t=%v: got %d, want %d", at, got, want)
		}
	}
}

func TestHPAClamp(t *testing.T) {
	h := NewHPA(DefaultHPAParams())
	o := hpaObs(15*time.Second, 4, 0, 1)
	o.MaxReplicas = 6
	if got := h.Decide(o); got != 6 {
		t.Errorf("max clamp: got %d, want 6", got)
	}
	p := DefaultHPAParams()
	p.ScaleDownStabilization = 0
	h = NewHPA(p)
	o = hpaObs(15*time.Second, 4, 0, 0.01)
	o.MinReplicas = 3
	if got := h.Decide(o); got != 3 {
		t.Errorf("min clamp: got %d, want 3", got)
	}
	h.Reset()
	if len(h.recs) != 0 || len(h.events) != 0 {
		t.Error("Reset kept history")
	}
}

// A replica that became Ready at the end of the window has served nothing: the
// utilisation the HPA scales by is that of the replicas Ready now (busy slots over
// their slots), not the window's utilisation over the replicas Ready during it.
func TestHPAJustReadyReplica(t *testing.T) {
	h := NewHPA(DefaultHPAParams()) // target 0.6
	// 2 replicas of 4 slots were Ready all window at 72.5% (5.8 busy slots); a third
	// became Ready at its end. Busy slots call for ceil(5.8 / (4 x 0.6)) = 3.
	o := hpaObs(15*time.Second, 3, 0, 0.725)
	o.Slots, o.BusySlots, o.Desired = 4, 5.8, 3
	if got := h.Decide(o); got != 3 {
		t.Fatalf("desired %d, want 3 (ratio 5.8/12/0.6 = 0.81 gives ceil(0.81 x 3) = 3)", got)
	}
	// Without BusySlots (hand-built observations), the window utilisation is used:
	// ceil(0.725/0.6 x 3) = 4.
	h.Reset()
	o.Slots, o.BusySlots = 0, 0
	if got := h.Decide(o); got != 4 {
		t.Fatalf("fallback: desired %d, want 4", got)
	}
}
