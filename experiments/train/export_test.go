package train

import (
	"bytes"
	"math"
	"path/filepath"
	"testing"

	"github.com/intelliscale/intelliscale/agents/learner"
	"github.com/intelliscale/intelliscale/agents/policy"
	"github.com/intelliscale/intelliscale/agents/ppo"
	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/sim"
)

// TestExportedPolicyDecidesAsTrainer: the trainer's own greedy policy (ppo.Policy,
// normalising with its running statistics) and the exported, saved and loaded
// policy choose the same action at every step of an episode, and the exported
// policy run through the simulator adapter sees the environment's observations and
// takes the same decisions.
func TestExportedPolicyDecidesAsTrainer(t *testing.T) {
	cfg := tinyConfig(PPO)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	rs := &runState{cfg: cfg, hash: "sha256:test"}
	l, err := ppo.Algorithm().New(cfg.Learner, learner.Run{NewEnv: func(int) env.Env { e, _ := rs.newEnv(); return e }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 3 {
		l.Update()
	}
	greedy := l.(interface{ Trainer() *ppo.Trainer }).Trainer().Policy()
	exported, err := rs.export(l)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.json")
	if err := exported.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}

	ecfg := cfg.Env
	ecfg.Warmup = -1 // the simulator run below starts cold, as sim.Run does
	a, err := env.NewAutoscale(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	trace := cfg.Env.Traces[0]
	obs, info, err := a.ResetWindow(trace, 0, 0, 1, 42)
	if err != nil {
		t.Fatal(err)
	}
	initial := int(info.Extra["initial_replicas"])
	var envObs [][]float64
	var envActs []int
	distinct := map[int]bool{}
	for {
		want := greedy.Act(obs)
		got := loaded.Act(obs)
		if got != want {
			t.Fatalf("step %d: exported policy chose %d, trainer's greedy policy %d", len(envActs), got, want)
		}
		envObs = append(envObs, append([]float64(nil), obs...))
		envActs = append(envActs, got)
		distinct[got] = true
		var trunc bool
		obs, _, _, trunc, _ = a.Step(got)
		if trunc {
			break
		}
	}
	if len(envActs) < 100 {
		t.Fatalf("episode of %d steps: the window should cover the whole train trace", len(envActs))
	}
	t.Logf("%d steps, %d distinct actions", len(envActs), len(distinct))

	// The same policy through the sim.Autoscaler adapter, driven like sim.Run.
	sc := a.Config().Sim
	sc.Seed, sc.InitialReplicas = 42, initial
	pa, err := Autoscaler(loaded, sc, Epoch(trace, 0))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sc, trace)
	if err != nil {
		t.Fatal(err)
	}
	s.SetRecorder(pa)
	o := s.Observe()
	for k := 0; ; k++ {
		d := pa.Decide(o)
		if k >= len(envActs) {
			t.Fatalf("simulator run longer than the env episode (%d steps)", len(envActs))
		}
		for i, v := range pa.Observation() {
			if math.Float64bits(v) != math.Float64bits(envObs[k][i]) {
				t.Fatalf("step %d feature %d: adapter sees %v, env %v", k, i, v, envObs[k][i])
			}
		}
		if want := min(max(o.Desired+cfg.Env.Actions[envActs[k]], o.MinReplicas), o.MaxReplicas); d != want {
			t.Fatalf("step %d: adapter asks for %d from %d, the env episode's action %d for %d", k, d, o.Desired, cfg.Env.Actions[envActs[k]], want)
		}
		var done bool
		if o, done = s.Step(d); done {
			break
		}
	}

	// Mismatched control interval is refused.
	bad := sc
	bad.ControlInterval, bad.ScrapeInterval = 30e9, 15e9
	if _, err := Autoscaler(loaded, bad, Epoch(trace, 0)); err == nil {
		t.Fatal("a 30s control interval was accepted for a policy trained at 15s")
	}
}

// TestSimulateHelper: Simulate drives the adapter over a whole trace with one
// decision per control interval plus the initial one.
func TestSimulateHelper(t *testing.T) {
	cfg := tinyConfig(DQN)
	p, err := Run(cfg, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	tr := cfg.Env.Traces[0]
	d1, err := Simulate(p, cfg.Env.Sim, tr)
	if err != nil {
		t.Fatal(err)
	}
	steps := int(tr.Duration() / cfg.Env.Sim.ControlInterval)
	if len(d1) != steps+1 && len(d1) != steps {
		t.Fatalf("%d decisions for %d control intervals", len(d1), steps)
	}
	d2, _ := Simulate(p, cfg.Env.Sim, tr)
	if !bytes.Equal(intsBytes(d1), intsBytes(d2)) {
		t.Fatal("two simulations of the same policy decided differently")
	}
	// sim.Run with the adapter loaded from the file takes the same decisions: row k's
	// Desired is the decision after it, clamped.
	path := filepath.Join(t.TempDir(), "p.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	a, err := LoadAutoscaler(path, cfg.Env.Sim, Epoch(tr, 0))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(cfg.Env.Sim, tr, a)
	if err != nil {
		t.Fatal(err)
	}
	sc := res.Config
	distinct := map[int]bool{}
	for k := 0; k+1 < len(res.Timeline) && k+1 < len(d1); k++ {
		want := min(max(d1[k+1], sc.Min()), sc.MaxReplicas)
		if res.Timeline[k].Desired != want {
			t.Fatalf("row %d: sim.Run desired %d, direct loop %d", k, res.Timeline[k].Desired, want)
		}
		distinct[want] = true
	}
	if len(distinct) < 2 {
		t.Fatalf("desired counts %v: a constant policy makes the comparison weak", distinct)
	}
}

func intsBytes(x []int) []byte {
	var b []byte
	for _, v := range x {
		b = append(b, byte(v), byte(v>>8))
	}
	return b
}
