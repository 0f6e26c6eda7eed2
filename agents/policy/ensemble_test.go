package policy

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// testEnsemble is an ensemble of the test policies of seeds (the same features,
// actions and simulator, other weights and statistics).
func testEnsemble(t *testing.T, seeds ...uint64) (*Policy, []*Policy) {
	t.Helper()
	ps := make([]*Policy, len(seeds))
	for i, s := range seeds {
		ps[i] = testPolicy(t, s)
	}
	e, err := Ensemble(ps, "")
	if err != nil {
		t.Fatal(err)
	}
	return e, ps
}

// lowerMedian is the obvious median of the members' own greedy actions.
func lowerMedian(ps []*Policy, obs []float64) int {
	var v []int
	for _, p := range ps {
		v = append(v, slowAct(p, obs))
	}
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

func TestEnsembleActIsTheMedianOfItsNetworks(t *testing.T) {
	for _, n := range []int{2, 3, 4, 5} {
		seeds := make([]uint64, n)
		for i := range seeds {
			seeds[i] = uint64(10 + i)
		}
		e, ps := testEnsemble(t, seeds...)
		if len(e.Members) != n-1 {
			t.Fatalf("%d policies: %d members, want %d", n, len(e.Members), n-1)
		}
		rng := rand.New(rand.NewPCG(uint64(n), 2))
		obs := make([]float64, e.NumInputs())
		disagree := 0
		for k := 0; k < 500; k++ {
			for j := range obs {
				obs[j] = 3 * rng.NormFloat64()
			}
			want := lowerMedian(ps, obs)
			if got := e.Act(obs); got != want {
				t.Fatalf("%d networks, observation %d: Act %d, median of the members' actions %d", n, k, got, want)
			}
			if want != slowAct(ps[0], obs) {
				disagree++
			}
		}
		// The test means something only if the ensemble does not merely follow its
		// first network.
		if disagree == 0 {
			t.Fatalf("%d networks: the ensemble always chose the first network's action", n)
		}
	}
}

func TestEnsembleRoundTrip(t *testing.T) {
	e, _ := testEnsemble(t, 1, 2, 3)
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"members"`) {
		t.Fatal("no members in the file")
	}
	q, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Members) != 2 || q.Members[1].Training.Seed != 3 || q.Training.Seed != 1 {
		t.Fatalf("members after a round trip: %d, seeds %d/%d", len(q.Members), q.Training.Seed, q.Members[1].Training.Seed)
	}
	b2, err := q.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Fatal("the file changed on a second round trip")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	obs := make([]float64, e.NumInputs())
	for k := 0; k < 200; k++ {
		for j := range obs {
			obs[j] = 3 * rng.NormFloat64()
		}
		if a, b := e.Act(obs), q.Act(obs); a != b {
			t.Fatalf("observation %d: %d before the file, %d after", k, a, b)
		}
	}
	// A member's weight edited in the file is caught by the checksum.
	bad := strings.Replace(string(b), `"members": [`, `"members": [ `, 1)
	if _, err := Unmarshal([]byte(bad)); err != nil {
		t.Fatalf("whitespace only: %v", err)
	}
	var tampered *Policy
	tampered, _ = Unmarshal(b)
	tampered.Members[0].Network.Params[0] += 1
	tb, _ := marshalUnchecked(tampered)
	if _, err := Unmarshal(tb); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("a member's weight changed: %v, want a checksum error", err)
	}
	// A single network's file has no members field.
	one, err := testPolicy(t, 1).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(one), "members") {
		t.Fatal("a single network's file names members")
	}
}

func TestEnsembleOfEnsembles(t *testing.T) {
	ab, _ := testEnsemble(t, 1, 2)
	c := testPolicy(t, 3)
	e, err := Ensemble([]*Policy{ab, c}, "")
	if err != nil {
		t.Fatal(err)
	}
	want, ps := testEnsemble(t, 1, 2, 3)
	if len(e.Members) != 2 {
		t.Fatalf("%d members, want 2 (flattened)", len(e.Members))
	}
	obs := make([]float64, e.NumInputs())
	rng := rand.New(rand.NewPCG(9, 9))
	for k := 0; k < 200; k++ {
		for j := range obs {
			obs[j] = 3 * rng.NormFloat64()
		}
		if a, b := e.Act(obs), want.Act(obs); a != b || a != lowerMedian(ps, obs) {
			t.Fatalf("observation %d: nested %d, flat %d", k, a, b)
		}
	}
	if len(ab.Members) != 1 {
		t.Fatal("Ensemble changed its input")
	}
}

func TestEnsembleActAllocationFree(t *testing.T) {
	e, _ := testEnsemble(t, 1, 2, 3, 4, 5)
	obs := make([]float64, e.NumInputs())
	e.Act(obs)
	if n := testing.AllocsPerRun(100, func() { e.Act(obs) }); n != 0 {
		t.Fatalf("Act allocates %v times per call", n)
	}
}

func TestEnsembleErrors(t *testing.T) {
	other := func(f func(p *Policy)) []*Policy {
		a, b := testPolicy(t, 1), testPolicy(t, 2)
		f(b)
		return []*Policy{a, b}
	}
	cases := []struct {
		name string
		ps   []*Policy
		want string
	}{
		{"one policy", []*Policy{testPolicy(t, 1)}, "want at least 2"},
		{"actions", other(func(p *Policy) { p.Actions = []int{-3, -2, -1, 0, 1, 2, 4} }), "its actions"},
		{"action mode", other(func(p *Policy) { p.ActionMode = "percent" }), "its actions"},
		{"features", other(func(p *Policy) { p.Features.Features[0].Clip = 7 }), "its features"},
		{"shield", other(func(p *Policy) { p.Shield.ScaleDownWindow = time.Minute }), "its shield"},
		{"target actions beside delta ones", other(func(p *Policy) {
			p.ActionMode = "target"
			p.Actions = []int{40, 50, 60, 70, 80, 90, 95}
			p.HeadroomScale = 0.8
		}), "its actions"},
		{"simulator", other(func(p *Policy) { p.Sim.Concurrency = 2 }), "policy 2: it was trained on another simulator than the first policy: concurrency 2 (the first policy: 4)"},
		{"simulator settings", other(func(p *Policy) {
			p.Sim.ControlIntervalSeconds, p.Sim.SLOLatencySeconds, p.Sim.MaxReplicas = 30, 0.25, 40
		}),
			"another simulator than the first policy: control_interval 30s (the first policy: 15s), slo.latency 250ms (the first policy: 500ms), max_replicas 40 (the first policy: 50)"},
		{"algorithm", other(func(p *Policy) { p.Algorithm = "dqn" }), "policy 2: it was trained by dqn, the first policy by ppo: an ensemble's networks are of one algorithm"},
		{"invalid member", other(func(p *Policy) { p.Network.Params = p.Network.Params[1:] }), "policy 2: policy: network.params"},
		{"actions out of order", func() []*Policy {
			a, b := testPolicy(t, 1), testPolicy(t, 2)
			a.Actions = []int{3, 2, 1, 0, -1, -2, -3}
			b.Actions = a.Actions
			return []*Policy{a, b}
		}(), "increasing order"},
	}
	for _, c := range cases {
		_, err := Ensemble(c.ps, "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	// The headroom scale alone.
	a, b := testPolicy(t, 1), testPolicy(t, 2)
	for _, p := range []*Policy{a, b} {
		p.ActionMode, p.Actions = "target", []int{40, 50, 60, 70, 80, 90, 95}
	}
	b.HeadroomScale = 0.8
	if _, err := Ensemble([]*Policy{a, b}, ""); err == nil || !strings.Contains(err.Error(), "headroom scale 0.8") {
		t.Errorf("headroom scale: %v", err)
	}
	// A file whose member does not fit the network.
	e, _ := testEnsemble(t, 1, 2)
	e.Members[0].Network.Sizes = []int{5, 8, 7}
	e.Members[0].Network.Params = make([]float64, 5*8+8+8*7+7)
	if err := e.Validate(); err == nil || !strings.Contains(err.Error(), "members[0].network.sizes") {
		t.Errorf("member of 5 inputs: %v", err)
	}
	e, _ = testEnsemble(t, 1, 2)
	e.Members[0].Algorithm = "sarsa"
	if err := e.Validate(); err == nil || !strings.Contains(err.Error(), "members[0].algorithm") {
		t.Errorf("member algorithm: %v", err)
	}
	e, _ = testEnsemble(t, 1, 2)
	e.Members[0].Normaliser.Var[3] = -1
	if err := e.Validate(); err == nil || !strings.Contains(err.Error(), "members[0].normaliser.var[3]") {
		t.Errorf("member normaliser: %v", err)
	}
	e, _ = testEnsemble(t, 1, 2)
	e.Members = make([]Member, MaxMembers+1)
	if err := e.Validate(); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("too many members: %v", err)
	}
}

// An ensemble is of networks of one algorithm and of different trainings: a
// policy given twice (or a network an ensemble given already holds) and a policy
// of another algorithm (or an ensemble holding one) are refused as MemberErrors
// naming the policy, and the policy given twice says which it repeats; actions
// out of order are the first policy's MemberError, ErrActionOrder.
func TestEnsembleRefusesRepeatedOrMixed(t *testing.T) {
	ab, _ := testEnsemble(t, 1, 2)
	dqn := testPolicy(t, 3)
	dqn.Algorithm = "dqn"
	mixed := *ab
	mixed.Members = append([]Member(nil), ab.Members...)
	mixed.Members[0].Algorithm = "dqn"
	for _, c := range []struct {
		name      string
		ps        []*Policy
		index, of int // of: -1 for not a SameNetworkError
		want      string
	}{
		{"the same policy twice", []*Policy{testPolicy(t, 1), testPolicy(t, 2), testPolicy(t, 1)}, 2, 0,
			"policy 3: it has a network of policy 1: the same training twice, not another seed"},
		{"a member given again", []*Policy{ab, testPolicy(t, 2)}, 1, 0, "it has a network of policy 1"},
		{"another algorithm", []*Policy{testPolicy(t, 1), dqn}, 1, -1, "it was trained by dqn, the first policy by ppo"},
		{"an ensemble holding another algorithm", []*Policy{testPolicy(t, 4), &mixed}, 1, -1, `members[0].algorithm "dqn": the policy's network is of algorithm ppo`},
	} {
		_, err := Ensemble(c.ps, "")
		var me *MemberError
		if !errors.As(err, &me) || me.Index != c.index || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want policy %d's MemberError with %q", c.name, err, c.index+1, c.want)
			continue
		}
		var same *SameNetworkError
		if got := errors.As(err, &same); got != (c.of >= 0) || got && same.Of != c.of {
			t.Errorf("%s: SameNetworkError %v, want of policy %d", c.name, same, c.of+1)
		}
	}
	a, b := testPolicy(t, 1), testPolicy(t, 2)
	a.Actions = []int{3, 2, 1, 0, -1, -2, -3}
	b.Actions = a.Actions
	_, err := Ensemble([]*Policy{a, b}, "")
	var me *MemberError
	if !errors.As(err, &me) || me.Index != 0 || !errors.Is(err, ErrActionOrder) || !strings.Contains(err.Error(), "policy 1: its actions [3 2 1 0 -1 -2 -3]: an ensemble needs them in increasing order") {
		t.Errorf("actions out of order: %v, want the first policy's MemberError with ErrActionOrder", err)
	}
}

// The cautious vote takes the action asking for the most replicas: the largest
// change in delta mode, the lowest target utilisation in target mode.
func TestEnsembleCautiousVote(t *testing.T) {
	for _, mode := range []string{"delta", "target"} {
		ps := make([]*Policy, 4)
		for i := range ps {
			ps[i] = testPolicy(t, uint64(20+i))
			if mode == "target" {
				ps[i].ActionMode, ps[i].Actions = "target", []int{40, 50, 60, 70, 80, 90, 95}
			}
		}
		e, err := Ensemble(ps, VoteCautious)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if e, err = Unmarshal(b); err != nil || e.Vote != VoteCautious {
			t.Fatalf("%s: vote after a round trip %q (%v)", mode, e.Vote, err)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		obs := make([]float64, e.NumInputs())
		differs := 0
		for k := 0; k < 300; k++ {
			for j := range obs {
				obs[j] = 3 * rng.NormFloat64()
			}
			var v []int
			for _, p := range ps {
				v = append(v, slowAct(p, obs))
			}
			want := slices.Max(v)
			if mode == "target" {
				want = slices.Min(v)
			}
			if got := e.Act(obs); got != want {
				t.Fatalf("%s, observation %d: Act %d, want %d of %v", mode, k, got, want, v)
			}
			if want != lowerMedian(ps, obs) {
				differs++
			}
		}
		if differs == 0 {
			t.Fatalf("%s: the cautious vote never differed from the median", mode)
		}
	}
	if _, err := Ensemble([]*Policy{testPolicy(t, 1), testPolicy(t, 2)}, "loudest"); err == nil || !strings.Contains(err.Error(), `vote "loudest"`) {
		t.Errorf("unknown vote: %v", err)
	}
	p := testPolicy(t, 1)
	p.Vote = VoteMedian
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "without members") {
		t.Errorf("a vote on one network: %v", err)
	}
}
