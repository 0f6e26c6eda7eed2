package elasticity

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestComputeHandComputed(t *testing.T) {
	cases := []struct {
		name string
		s    Series
		want Summary
	}{
		{
			name: "empty",
			s:    Series{Interval: 15},
			want: Summary{},
		},
		{
			name: "perfect",
			s: Series{Interval: 15, Demand: []int{2, 2, 3, 3}, Supply: []int{2, 2, 3, 3}, Desired: []int{2, 3, 3, 3},
				Requests: 1000, Violations: 50, Dropped: 10, Cost: 1.5},
			// accuracy 100; one desired change; no instability (moves together).
			want: Summary{Accuracy: 100, ScalingActions: 1, SLOViolations: 5, DropRate: 1, Cost: 1.5},
		},
		{
			// t:      0  1  2  3  4  5
			// d:      2  4  4  4  1  0
			// s:      2  2  3  4  4  2
			// under at t=1 (2/4), t=2 (1/4): theta_U = 100/6*(0.5+0.25) = 12.5
			// over at t=4 (3/1), t=5 (2/max(0,1)=2): theta_O = 100/6*5 = 83.33
			// tau_U = 2/6, tau_O = 2/6; accuracy: t=0, t=3 -> 2/6
			// moves: t1 s0 d+ (diff), t2 s+ d0 (diff), t3 s+ d0 (diff), t4 s0 d- (diff),
			// t5 s- d- (same) -> k = 4/5 = 80%
			// one episode of 2 intervals = 30 s
			// rise at t=1 with s<d: met at t=3 (s=4 >= 4): 2 intervals = 30 s
			name: "mixed",
			s: Series{Interval: 15, Demand: []int{2, 4, 4, 4, 1, 0}, Supply: []int{2, 2, 3, 4, 4, 2},
				Desired: []int{4, 4, 4, 4, 2, 2}},
			want: Summary{ThetaU: 12.5, ThetaO: 500.0 / 6, TauU: 100.0 / 3, TauO: 100.0 / 3,
				Instability: 80, ScalingActions: 1, UnderProvisionSeconds: 30, TimeToMeetDemand: 30,
				Accuracy: 100.0 / 3},
		},
		{
			// Two episodes (lengths 1 and 3 intervals of 10 s): mean 20 s.
			// Rises with shortfall: t=1 (d 1->3, s=1): ends at t=2 where d=1 <= s=1
			// (demand dropped back): 10 s. t=3 (d 1->2, s=1): never met: censored at
			// the end, n - t = 3 intervals = 30 s. t=4 (2->3, s=1): censored, 20 s.
			// Mean (10+30+20)/3 = 20 s.
			name: "episodes and censoring",
			s:    Series{Interval: 10, Demand: []int{1, 3, 1, 2, 3, 3}, Supply: []int{1, 1, 1, 1, 1, 1}},
			want: Summary{
				ThetaU:                100.0 / 6 * (2.0/3 + 0.5 + 2.0/3 + 2.0/3),
				TauU:                  400.0 / 6,
				Instability:           80, // demand moves at t=1..4 while supply stays; t=5 neither moves
				UnderProvisionSeconds: 20,
				TimeToMeetDemand:      20,
				Accuracy:              200.0 / 6,
			},
		},
		{
			// Rise already met: no event. Supply oscillating against flat demand.
			name: "oscillation",
			s:    Series{Interval: 15, Demand: []int{2, 2, 2, 2, 2}, Supply: []int{2, 3, 2, 3, 2}},
			want: Summary{ThetaO: 100.0 / 5 * 1, TauO: 40, Instability: 100, Accuracy: 100},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.s.Validate(); err != nil && tc.name != "empty" {
				t.Fatalf("Validate: %v", err)
			}
			got := Compute(tc.s)
			check := func(field string, g, w float64) {
				if !near(g, w) {
					t.Errorf("%s = %v, want %v", field, g, w)
				}
			}
			check("ThetaU", got.ThetaU, tc.want.ThetaU)
			check("ThetaO", got.ThetaO, tc.want.ThetaO)
			check("TauU", got.TauU, tc.want.TauU)
			check("TauO", got.TauO, tc.want.TauO)
			check("Instability", got.Instability, tc.want.Instability)
			check("UnderProvisionSeconds", got.UnderProvisionSeconds, tc.want.UnderProvisionSeconds)
			check("TimeToMeetDemand", got.TimeToMeetDemand, tc.want.TimeToMeetDemand)
			check("Accuracy", got.Accuracy, tc.want.Accuracy)
			check("SLOViolations", got.SLOViolations, tc.want.SLOViolations)
			check("DropRate", got.DropRate, tc.want.DropRate)
			check("Cost", got.Cost, tc.want.Cost)
			if got.ScalingActions != tc.want.ScalingActions {
				t.Errorf("ScalingActions = %d, want %d", got.ScalingActions, tc.want.ScalingActions)
			}
		})
	}
}

func TestComputeInvariants(t *testing.T) {
	// tau_U + tau_O + percent of exact matches = 100, and accuracy >= exact matches.
	d := []int{1, 2, 3, 5, 8, 5, 3, 2, 1, 0, 0, 4}
	s := []int{1, 1, 2, 3, 6, 9, 7, 3, 2, 1, 0, 0}
	sum := Compute(Series{Interval: 15, Demand: d, Supply: s})
	exact := 0
	for i := range d {
		if d[i] == s[i] {
			exact++
		}
	}
	pe := 100 * float64(exact) / float64(len(d))
	if !near(sum.TauU+sum.TauO+pe, 100) {
		t.Errorf("tau_U %v + tau_O %v + exact %v != 100", sum.TauU, sum.TauO, pe)
	}
	if sum.Accuracy < pe {
		t.Errorf("accuracy %v below exact-match share %v", sum.Accuracy, pe)
	}
	// Swapping supply and demand swaps the timeshares.
	sw := Compute(Series{Interval: 15, Demand: s, Supply: d})
	if !near(sw.TauU, sum.TauO) || !near(sw.TauO, sum.TauU) {
		t.Errorf("swap: tau (%v, %v) vs (%v, %v)", sw.TauU, sw.TauO, sum.TauU, sum.TauO)
	}
	// Shifting supply up by a constant never raises under-provisioning.
	up := make([]int, len(s))
	for i := range s {
		up[i] = s[i] + 1
	}
	if u := Compute(Series{Interval: 15, Demand: d, Supply: up}); u.ThetaU > sum.ThetaU || u.TauU > sum.TauU {
		t.Errorf("more supply raised under-provisioning: %+v vs %+v", u, sum)
	}
}

func TestSeriesValidate(t *testing.T) {
	bad := []Series{
		{Interval: 0, Demand: []int{1}, Supply: []int{1}},
		{Interval: 15, Demand: []int{1, 2}, Supply: []int{1}},
		{Interval: 15, Demand: []int{1}, Supply: []int{1}, Desired: []int{1, 2}},
		{Interval: 15, Requests: 1, Violations: 2},
		{Interval: 15, Requests: -1},
	}
	for i, s := range bad {
		if s.Validate() == nil {
			t.Errorf("case %d: Validate accepted %+v", i, s)
		}
	}
}

// TestAccuracyBandScales checks the scaling-accuracy band at 3 and at 300 replicas:
// one replica of slack at small scale, 10% at large scale, never below demand.
func TestAccuracyBandScales(t *testing.T) {
	cases := []struct {
		d, s int
		want bool
	}{
		{3, 2, false}, {3, 3, true}, {3, 4, true}, {3, 5, false},
		{10, 11, true}, {10, 12, false},
		{19, 20, true}, {19, 21, false}, // floor(20.9) = 20
		{300, 299, false}, {300, 300, true}, {300, 330, true}, {300, 331, false},
		{0, 0, true}, {0, 1, true}, {0, 2, false},
	}
	for _, c := range cases {
		if got := InBand(c.d, c.s); got != c.want {
			t.Errorf("InBand(d=%d, s=%d) = %v, want %v", c.d, c.s, got, c.want)
		}
	}
	// The same relative tracking reads the same at both scales: supply 5% above
	// demand half the time and 20% above the other half.
	for _, d := range []int{100, 300} {
		s := Series{Interval: 15}
		for i := 0; i < 10; i++ {
			over := 0.05
			if i%2 == 1 {
				over = 0.2
			}
			s.Demand = append(s.Demand, d)
			s.Supply = append(s.Supply, d+int(over*float64(d)))
		}
		sum := Compute(s)
		if sum.Accuracy != 50 {
			t.Errorf("d=%d: accuracy %v, want 50", d, sum.Accuracy)
		}
		if math.Abs(sum.ThetaO-12.5) > 1e-9 || sum.TauO != 100 || sum.TauU != 0 {
			t.Errorf("d=%d: theta_O %v tau_O %v tau_U %v, want 12.5, 100, 0", d, sum.ThetaO, sum.TauO, sum.TauU)
		}
	}
	// At 3 replicas one spare replica is accurate, two are not.
	s := Series{Interval: 15, Demand: []int{3, 3, 3, 3}, Supply: []int{3, 4, 5, 2}}
	if sum := Compute(s); sum.Accuracy != 50 || math.Abs(sum.ThetaO-100*(1.0/3+2.0/3)/4) > 1e-9 || math.Abs(sum.ThetaU-100*(1.0/3)/4) > 1e-9 {
		t.Errorf("d=3: accuracy %v theta_O %v theta_U %v", sum.Accuracy, sum.ThetaO, sum.ThetaU)
	}
}
