package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/agents/policy"
)

// tinyPPOTrain is a policy entry's train block for a PPO that trains in a
// fraction of a second on the fluid model (for tests of what the experiment does
// with trained policies, not of the training).
const tinyPPOTrain = `    train:
      steps: 256
      params:
        env: {fidelity: fluid, action_mode: target, actions: [40, 60, 80]}
        ppo: {num_envs: 1, num_steps: 64, num_minibatches: 2, update_epochs: 1}
`

// ensembleConf trains a small PPO with three seeds and evaluates the ensembles of
// its three networks, by each vote, beside it.
const ensembleConf = `name: ens
seeds: [1, 2, 3]
sim: {max_replicas: 20}
traces:
  - name: wave
    synth: {duration: 3h, bucket: 1m, base_rate: 30, diurnal: {amplitude: 0.5, peak_hour: 1}}
policies:
  - name: ppo
    kind: ppo
` + tinyPPOTrain + `  - name: ppo-cautious
    kind: ppo
    ensemble_of: ppo
    sweep: {param: headroom_scale, values: [0.5]}
  - name: ppo-median
    kind: ppo
    ensemble_of: ppo
    vote: median
`

// TestEnsembleOfEvaluatesEverySeedsNetwork: an ensemble_of entry trains nothing,
// each of its evaluation cells depends on every seed's training of the policy it is
// of, and its figures are those of the file intelliscale export writes from those
// runs with the same vote, evaluated as a file: entry on the same windows and seeds.
func TestEnsembleOfEvaluatesEverySeedsNetwork(t *testing.T) {
	cfg, err := Parse([]byte(ensembleConf), "ens.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.Policies[1].Vote; v != policy.VoteCautious {
		t.Fatalf("default vote %q, want %s", v, policy.VoteCautious)
	}
	prepare, eval := Matrix(cfg)
	if len(prepare) != 3 {
		t.Fatalf("prepare cells %v, want ppo's three trainings only", prepare)
	}
	for _, c := range eval {
		d := dependencies(c, cfg.Seeds)
		switch FamilyOf(c.Policy) {
		case "ppo":
			if len(d) != 1 || d[0].Policy != "ppo" || d[0].Seed != c.Seed {
				t.Errorf("%s depends on %v", c.Name(), d)
			}
		default:
			if len(d) != 3 || d[0].Dir() != "train/ppo__1" || d[1].Dir() != "train/ppo__2" || d[2].Dir() != "train/ppo__3" {
				t.Errorf("%s depends on %v, want all of ppo's trainings", c.Name(), d)
			}
		}
	}
	out := t.TempDir()
	if _, err := (&Runner{Config: cfg, Out: out, Backend: DefaultBackend(), Workers: 2}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The same ensembles exported by hand and evaluated as files.
	var ps []*policy.Policy
	for _, s := range []string{"1", "2", "3"} {
		p, err := policy.Load(filepath.Join(out, "train", "ppo__"+s, "policy.json"))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	dir := t.TempDir()
	conf := ensembleConf[:strings.Index(ensembleConf, "policies:")] + "policies:\n"
	for _, vote := range []string{"cautious", "median"} {
		e, err := policy.Ensemble(ps, vote)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Save(filepath.Join(dir, vote+".json")); err != nil {
			t.Fatal(err)
		}
		conf += "  - {name: ppo-" + vote + ", kind: ppo, file: " + vote + ".json"
		if vote == "cautious" {
			conf += ", sweep: {param: headroom_scale, values: [0.5]}"
		}
		conf += "}\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "files.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	fcfg, err := Load(filepath.Join(dir, "files.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fout := t.TempDir()
	if _, err := (&Runner{Config: fcfg, Out: fout, Backend: DefaultBackend(), Workers: 2}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, feval := Matrix(fcfg)
	if len(feval) != 3*len(cfg.Eval)*len(cfg.Seeds) {
		t.Fatalf("%d file cells", len(feval))
	}
	differ := false
	for _, c := range feval {
		got := cellMetricsJSON(t, filepath.Join(out, c.Dir()))
		if want := cellMetricsJSON(t, filepath.Join(fout, c.Dir())); !bytes.Equal(got, want) {
			t.Errorf("%s: the ensemble_of cell's figures differ from the exported file's\n got %s\nwant %s", c.Name(), got, want)
		}
		if c.Policy == "ppo-cautious" {
			m := c
			m.Policy = "ppo-median"
			differ = differ || !bytes.Equal(got, cellMetricsJSON(t, filepath.Join(out, m.Dir())))
		}
	}
	// The two votes decide differently somewhere: each cell runs both networks.
	if !differ {
		t.Error("the cautious and median ensembles have the same figures on every window: the networks were not both run")
	}
}

// TestEnsembleOfErrors: what is wrong with an ensemble_of entry is named by field
// before any work.
func TestEnsembleOfErrors(t *testing.T) {
	const head = "name: x\ntraces:\n  - {name: a, builtin: bursty}\npolicies:\n  - {name: ppo, kind: ppo, train: {steps: 1024, params: {env: {action_mode: target, actions: [50, 80]}}}}\n  - {name: hpa, kind: hpa}\n  - {name: frozen, kind: ppo, file: frozen.json}\n"
	for _, c := range []struct{ entry, want string }{
		{"{name: e, kind: ppo, ensemble_of: e}", "policies[3].ensemble_of: \"e\": names the policy itself"},
		{"{name: e, kind: ppo, ensemble_of: ppx}", "policies[3].ensemble_of: \"ppx\": no such policy"},
		{"{name: e, kind: ppo, ensemble_of: hpa}", "a policy of kind hpa: must name a learned policy"},
		{"{name: e, kind: ppo, ensemble_of: frozen}", "policies[3].ensemble_of: \"frozen\": a policy file"},
		{"{name: e, kind: dqn, ensemble_of: ppo}", "policies[3].kind: \"dqn\": the ensemble of ppo, a ppo policy: must be ppo"},
		{"{name: e, kind: hpa, ensemble_of: ppo}", "policies[3].ensemble_of: only valid for the learned kinds"},
		{"{name: e, kind: ppo, ensemble_of: ppo, train: {steps: 10}}", "policies[3].train: set beside ensemble_of"},
		{"{name: e, kind: ppo, ensemble_of: ppo, file: f.json}", "policies[3].ensemble_of: set beside file"},
		{"{name: e, kind: ppo, ensemble_of: ppo, vote: mean}", "policies[3].vote: \"mean\": want cautious or median"},
		{"{name: e, kind: ppo, train: {steps: 10}, vote: median}", "policies[3].vote: set without ensemble_of"},
		{"{name: e, kind: ppo, ensemble_of: ppo, sweep: {param: env.slo_weight, values: [2]}}", "policies[3].sweep.param: \"env.slo_weight\": an ensemble trains nothing of its own"},
		{"{name: e, kind: ppo, ensemble_of: ppo, zero_shot_of: ppo}", "policies[3].zero_shot_of: the policy is an ensemble"},
		{"{name: e, kind: ppo, ensemble_of: ppo}\n  - {name: f, kind: ppo, ensemble_of: e}", "policies[4].ensemble_of: \"e\": an ensemble"},
		{"{name: e, kind: ppo, ensemble_of: ppo}\n  - {name: z, kind: ppo, zero_shot_of: e, train: {steps: 10, traffic: {random: {count: 1}}}}", "policies[4].zero_shot_of: \"e\": an ensemble"},
	} {
		_, err := Parse([]byte(head+"  - "+c.entry+"\n"), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %q", c.entry, err, c.want)
		}
	}
	// The ensemble's deploy-time params are checked against the training of the
	// policy it is of, before anything trains: ppo-delta acts in delta mode, where
	// headroom_scale has no meaning.
	conf := "name: x\ntraces:\n  - {name: a, builtin: bursty}\npolicies:\n  - {name: ppo-delta, kind: ppo, train: {steps: 1024}}\n  - name: e\n    kind: ppo\n    ensemble_of: ppo-delta\n    sweep: {param: headroom_scale, values: [0.5]}\n"
	cfg, err := Parse([]byte(conf), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = Check(cfg, DefaultBackend())
	if err == nil || !strings.Contains(err.Error(), "x.yaml line 9: policies[1].sweep.values[0].params.headroom_scale") || !strings.Contains(err.Error(), "action_mode target or forecast") {
		t.Errorf("headroom_scale on an ensemble of a delta policy: %v", err)
	}
}

// TestEnsembleOfRunsInAShard: a shard of the evaluation cells computes every
// training an ensemble's cells need, and a cautious ensemble never holds fewer
// replicas than the seed's own network on the same window (the fake learners:
// the ensemble serves as its least capable member).
func TestEnsembleOfRunsInAShard(t *testing.T) {
	cfg, err := Parse([]byte(tinyConfig+"  - {name: ens, kind: ppo, ensemble_of: ppo}\n"), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBackend{}
	out := t.TempDir()
	_, eval := Matrix(cfg)
	shard := -1
	for i, c := range eval {
		if c.Policy == "ens" && c.Seed == 1 {
			shard = i % 7
			break
		}
	}
	r := &Runner{Config: cfg, Out: out, Backend: f.backend(), Workers: 2, Shard: Shard{shard, 7}}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := f.trains.Load(); n != int64(len(cfg.Seeds)) {
		t.Errorf("%d trainings, want every seed's (%d) for the ensemble", n, len(cfg.Seeds))
	}
	out = t.TempDir()
	if _, err := (&Runner{Config: cfg, Out: out, Backend: f.backend(), Workers: 2}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	more := false
	for _, c := range eval {
		if c.Policy != "ens" {
			continue
		}
		single := c
		single.Policy = "ppo"
		e, err := readCellMetrics(filepath.Join(out, c.Dir(), "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := readCellMetrics(filepath.Join(out, single.Dir(), "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		if e.Metrics["cost"] < s.Metrics["cost"] {
			t.Errorf("%s: cost %v below the single network's %v", c.Name(), e.Metrics["cost"], s.Metrics["cost"])
		}
		more = more || e.Metrics["cost"] > s.Metrics["cost"]
	}
	if !more {
		t.Error("the ensemble costs what each seed's own network costs everywhere: the seeds were not combined")
	}
}
