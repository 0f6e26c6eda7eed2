package elasticity

import "testing"

// A run whose trace does not end at a control interval's end has a shorter last
// entry; every sum over time weights it by its length, so T is the run's length.
func TestComputeShorterLastEntry(t *testing.T) {
	// t:  0   1   2 (5 s of 10)
	// d:  0   0   3
	// s:  1   1   1
	// T = 25 s. Under only at t=2: tau_U = 100*5/25 = 20, theta_U = 100*(2/3*5)/25.
	// Over at t=0, 1 (1 replica for no demand, 100% each): theta_O = tau_O = 100*20/25.
	// One episode of 5 s. The rise at t=2 is never met: censored at the run's end,
	// 5 s. Moves: t=1 (none, none) same; t=2 (none, up) differ: k = 100*5/(25-10).
	// Accuracy counts intervals, not seconds: t=0 and 1 are in the band (s = d+1), t=2
	// is not: 2 of 3.
	s := Series{Interval: 10, Last: 5, Demand: []int{0, 0, 3}, Supply: []int{1, 1, 1}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	got := Compute(s)
	want := Summary{ThetaU: 100 * (2.0 / 3 * 5) / 25, ThetaO: 80, TauU: 20, TauO: 80,
		Instability: 100 * 5.0 / 15, UnderProvisionSeconds: 5, TimeToMeetDemand: 5}
	check := func(name string, g, w float64) {
		if !near(g, w) {
			t.Errorf("%s = %v, want %v", name, g, w)
		}
	}
	check("ThetaU", got.ThetaU, want.ThetaU)
	check("ThetaO", got.ThetaO, want.ThetaO)
	check("TauU", got.TauU, want.TauU)
	check("TauO", got.TauO, want.TauO)
	check("Instability", got.Instability, want.Instability)
	check("UnderProvisionSeconds", got.UnderProvisionSeconds, want.UnderProvisionSeconds)
	check("TimeToMeetDemand", got.TimeToMeetDemand, want.TimeToMeetDemand)
	check("Accuracy", got.Accuracy, 200.0/3)

	// Last equal to Interval, or 0, is a full entry: the figures of equal entries.
	full := Compute(Series{Interval: 10, Demand: s.Demand, Supply: s.Supply})
	if same := Compute(Series{Interval: 10, Last: 10, Demand: s.Demand, Supply: s.Supply}); same != full {
		t.Errorf("Last = Interval: %+v, want %+v", same, full)
	}
	check("full TauU", full.TauU, 100.0/3)

	for _, last := range []float64{-1, 11} {
		if err := (Series{Interval: 10, Last: last}).Validate(); err == nil {
			t.Errorf("Last %v: no error", last)
		}
	}
}
