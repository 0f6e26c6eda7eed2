package policy

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/env/features"
	"github.com/intelliscale/intelliscale/sim"
)

// linearPolicy is a policy of the default features whose network, without a hidden
// layer or a normaliser, scores action i (a change of actions[i] replicas) as
// weights[i] times the ready feature (ready replicas / 10, unclipped).
func linearPolicy(t testing.TB, actions []int, weights []float64) *Policy {
	t.Helper()
	spec := features.Default(0.5)
	in, out := len(spec.Features), len(actions)
	ready := slices.Index(spec.Names(), "ready")
	params := make([]float64, in*out+out)
	for i, w := range weights {
		params[i*in+ready] = w
	}
	return &Policy{
		Version: Version, Algorithm: "ppo",
		Network:  Network{Sizes: []int{in, out}, Activation: "identity", Params: params},
		Features: spec, Actions: actions,
		Sim: SimInfo{ControlIntervalSeconds: 15, ScrapeIntervalSeconds: 15, SLOLatencySeconds: 0.5, SLOTarget: 0.95,
			MinReplicas: 1, MaxReplicas: 50, Concurrency: 4},
		Training: TrainingInfo{Steps: 1, Episodes: 1, ConfigHash: "sha256:00"},
	}
}

// A network whose parameters, each finite, overflow together is refused at load,
// naming the file, the network and the observation it was probed on, whichever of
// the probes shows it; a member of an ensemble is named as such.
func TestLoadRefusesAnOverflowingNetwork(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		mod  func(p *Policy)
		want string
	}{
		{"all 1e308", func(p *Policy) {
			for i := range p.Network.Params {
				p.Network.Params[i] = 1e308
			}
		}, "policy: network: score"},
		{"member", func(p *Policy) {
			q := testPolicy(t, 12)
			for i := range q.Network.Params {
				q.Network.Params[i] = 1e308
			}
			p.Members = []Member{{Algorithm: q.Algorithm, Network: q.Network, Normaliser: q.Normaliser, Training: q.Training}}
		}, "policy: members[0].network: score"},
	} {
		p := testPolicy(t, 11)
		tc.mod(p)
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
		if err := p.Save(path); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err := Load(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+": "+tc.want) || !strings.Contains(err.Error(), "overflow together") {
			t.Errorf("%s: Load: %v\nwant %q", tc.name, err, path+": "+tc.want)
		}
	}

	// A clipped feature is probed at both ends of its range: here the
	// utilisation (clip 4) overflows at 4, not at 0.
	p := linearPolicy(t, []int{1, 0}, nil)
	p.Network.Params[0] = 1e308 // action 0, utilisation
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(b); err == nil || !strings.Contains(err.Error(), "score -Inf for action 0 on every feature at the low end of its range") {
		t.Errorf("overflow at the clip: %v", err)
	}
}

// A network that overflows on an observation no probe reached gives no action,
// and is counted, rather than the argmax of its non-finite scores.
func TestActRefusesNonFiniteScores(t *testing.T) {
	p := linearPolicy(t, []int{0, 1}, []float64{0, 1e308})
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if p, err = Unmarshal(b); err != nil {
		t.Fatalf("the probes should pass (the ready feature is unclipped): %v", err)
	}
	obs := make([]float64, p.NumInputs())
	ready := slices.Index(p.Features.Names(), "ready")
	obs[ready] = 0.1
	if a := p.Act(obs); a != 1 || p.NonFinite() != 0 {
		t.Fatalf("one replica ready: action %d, NonFinite %d; want 1, 0", a, p.NonFinite())
	}
	obs[ready] = 2 // 20 ready: 2e308 overflows
	if a := p.Act(obs); a != -1 || p.NonFinite() != 1 {
		t.Fatalf("20 ready: action %d, NonFinite %d; want -1, 1", a, p.NonFinite())
	}
	if s, err := p.Scores(obs); err != nil || s[1] < 1e308 {
		t.Fatalf("Scores: %v, %v: want the +Inf as it is", s, err)
	}

	// In an ensemble, one network's non-finite scores are enough.
	q := linearPolicy(t, []int{0, 1}, []float64{1, 0})
	e, err := Ensemble([]*Policy{q, p}, "")
	if err != nil {
		t.Fatal(err)
	}
	obs[ready] = 0.1
	if a := e.Act(obs); a < 0 {
		t.Fatalf("ensemble, one replica ready: action %d", a)
	}
	obs[ready] = 2
	if a := e.Act(obs); a != -1 || e.NonFinite() != 1 {
		t.Fatalf("ensemble, 20 ready: action %d, NonFinite %d; want -1, 1", a, e.NonFinite())
	}
}

// Differences names every recorded setting that differs between training and the
// run, as a config file writes it, and none when they agree; the intervals are a
// runner's to refuse.
func TestSimDifferences(t *testing.T) {
	p := testPolicy(t, 13)
	cfg := sim.Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := p.Sim.Differences(cfg); len(d) != 0 {
		t.Fatalf("the defaults the test policy was trained on: differences %v", d)
	}
	cfg = sim.Config{MinReplicas: new(0), MaxReplicas: 80, Concurrency: 8, ControlInterval: 30 * time.Second,
		SLO: sim.SLO{Latency: 100 * time.Millisecond, Target: 0.99}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range p.Sim.Differences(cfg) {
		got = append(got, d.String())
	}
	want := []string{
		"was trained with slo.latency 500ms, this run has 100ms",
		"was trained with slo.target 0.95, this run has 0.99",
		"was trained with min_replicas 1, this run has 0",
		"was trained with max_replicas 50, this run has 80",
		"was trained with concurrency 4, this run has 8",
	}
	if !slices.Equal(got, want) {
		t.Errorf("differences:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Target and forecast modes scale on the utilisation of Ready replicas, and cannot
// leave zero; delta and percent modes can.
func TestScalesFromZero(t *testing.T) {
	for mode, want := range map[string]bool{"": true, env.ActionDelta: true, env.ActionPercent: true, env.ActionTarget: false, env.ActionForecast: false} {
		p := &Policy{ActionMode: mode}
		if p.ScalesFromZero() != want {
			t.Errorf("action mode %q: ScalesFromZero %v, want %v", mode, !want, want)
		}
	}
}
