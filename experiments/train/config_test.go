package train

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/agents/ppo"
	"github.com/intelliscale/intelliscale/traces"
)

func TestDecodeConfigErrorsNameLineAndField(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "algorithm: ppo\nstepz: 3\n", []string{"c.yaml", "line 2", "stepz"}},
		{"unknown nested key", "algorithm: ppo\nppo:\n  learning_rat: 1\n", []string{"line 3", "learning_rat"}},
		{"missing algorithm", "steps: 10\n", []string{"algorithm", "required"}},
		{"bad algorithm", "algorithm: a2c\n", []string{"line 1", "algorithm", "a2c"}},
		{"ppo value", "algorithm: ppo\nppo:\n  learning_rate: -1\n", []string{"c.yaml line 3: ppo.learning_rate: -1: must be > 0"}},
		{"dqn value", "algorithm: dqn\ndqn:\n  gamma: 2\n", []string{"c.yaml line 3: dqn.gamma: 2: must be in [0, 1]"}},
		{"split sum", "algorithm: ppo\nsplit: [0.5, 0.1, 0.1]\n", []string{"line 2", "split", "sum to 1"}},
		{"two sources", "algorithm: ppo\ntraces:\n  - builtin: bursty\n  - builtin: step\n    file: x.csv\n", []string{"line 4", "traces[1]"}},
		{"unknown builtin", "algorithm: ppo\ntraces:\n  - builtin: nope\n", []string{"line 3", "traces[0].builtin", "nope"}},
		{"bad steps", "algorithm: dqn\nsteps: -5\n", []string{"line 2", "steps"}},
		// A written zero is refused, not read as "unset": steps: 0 trained the default
		// 200,000 steps and seed: 0 ran seed 1.
		{"zero steps", "algorithm: ppo\nsteps: 0\n", []string{"c.yaml line 2: steps: 0: 0 stands for unset"}},
		{"zero seed", "algorithm: ppo\nseed: 0\n", []string{"c.yaml line 2: seed: 0: 0 stands for unset"}},
		{"zero learner size", "algorithm: ppo\nppo:\n  num_envs: 0\n", []string{"c.yaml line 3: ppo.num_envs: 0: 0 stands for unset"}},
		{"zero dqn buffer", "algorithm: dqn\ndqn: {buffer_size: 0}\n", []string{"c.yaml line 2: dqn.buffer_size: 0: 0 stands for unset"}},
		{"zero warm start", "algorithm: ppo\nwarm_start: {expert: oracle, epochs: 0}\n", []string{"c.yaml line 2: warm_start.epochs: 0: 0 stands for unset"}},
		{"zero episode", "algorithm: ppo\nenv:\n  episode_length: 0s\n", []string{"c.yaml line 3: env.episode_length: 0s: 0 stands for unset"}},
		{"zero warm-up", "algorithm: ppo\nenv:\n  warmup: 0s\n", []string{"c.yaml line 3: env.warmup: 0s: 0 stands for unset", "for no warm-up, give a negative value (warmup: -1s)"}},
		{"zero rate scale", "algorithm: ppo\nenv:\n  rate_scale: [0, 0]\n", []string{"c.yaml line 3: env.rate_scale: [0, 0]: 0 stands for unset"}},
		{"dqn section in ppo", "algorithm: ppo\nppo: {num_envs: 2}\ndqn:\n  gamma: 0.9\n", []string{"c.yaml line 3: dqn: a dqn section in a ppo run would be ignored"}},
		{"ppo section in dqn", "algorithm: dqn\nppo:\n  num_envs: 2\n", []string{"c.yaml line 2: ppo: a ppo section in a dqn run"}},
		{"empty actions", "algorithm: ppo\nenv:\n  actions: []\n", []string{"c.yaml line 3: env.actions: empty"}},
		{"one weight keeps the others", "algorithm: ppo\nenv:\n  slo_weight: -1\n", []string{"c.yaml line 3: env.slo_weight: -1: must be at least 0"}},
		{"empty traces", "algorithm: ppo\ntraces: []\n", []string{"c.yaml line 2: traces: empty"}},
		{"bad trace scale", "algorithm: ppo\ntraces:\n  - builtin: bursty\n    scale_mean: -5\n", []string{"c.yaml line 4: traces[0].scale_mean: -5: must be at least 0"}},
		{"tiny interval", "algorithm: ppo\nenv:\n  sim:\n    control_interval: 1us\n", []string{"c.yaml line 4: env.sim.control_interval: 1µs: must be at least 100ms"}},
		{"huge num_envs", "algorithm: ppo\nppo:\n  num_envs: 100000\n", []string{"c.yaml line 3: ppo.num_envs: 100000: must be in [1, 1024]"}},
		{"other algorithm's section", "algorithm: ppo\nsteps: 10\ndqn:\n  gamma: 0.9\n", []string{"c.yaml line 3: dqn: a dqn section in a ppo run would be ignored"}},
		{"lagrangian off-policy", "algorithm: dqn\nlagrangian: {enabled: true}\n", []string{"line 2", "lagrangian.enabled", "on-policy"}},
		{"unknown key after section", "algorithm: ppo\nppo: {num_envs: 2}\nenvv: {}\n", []string{"line 3", "envv"}},
		// The learner's budget is the run's: written in its section it was overwritten.
		{"steps in the learner's section", "algorithm: ppo\nppo:\n  total_steps: 9999\n", []string{"c.yaml line 3: ppo.total_steps: set by the top-level steps (200000), not here"}},
		{"seed in the learner's section", "algorithm: dqn\ndqn: {seed: 7}\n", []string{"c.yaml line 2: dqn.seed: set by the top-level seed (1), not here"}},
		{"steps under one batch", "algorithm: ppo\nsteps: 100\n", []string{"c.yaml line 2: steps: 100: must be at least one batch (num_envs x num_steps = 4 x 128 = 512)"}},
		{"zero budget", "algorithm: ppo\nlagrangian: {enabled: true, budget: 0}\n", []string{"c.yaml line 2: lagrangian.budget: 0: 0 stands for unset", "a budget of no violations at all cannot be met"}},
		{"shield bound", "algorithm: ppo\nenv:\n  shield:\n    scale_down_window: -5m\n", []string{"c.yaml line 4: env.shield.scale_down_window: -5m: must be at least 0"}},
		{"feature as a name", "algorithm: ppo\nenv: {features: {features: [rate]}}\n", []string{`c.yaml line 2: env.features.features[0]: "rate": want a mapping (keys: name, expr, doc`}},
		// The library names neither line nor key for a fixed-size list of another length.
		{"short split", "algorithm: ppo\nsplit: [0.6, 0.4]\n", []string{"c.yaml line 2: split: want a list of 3 values, got 2"}},
		// Written out with no share it trained on the default split.
		{"zero split", "algorithm: ppo\nsplit: [0, 0, 0]\n", []string{"c.yaml line 2: split: [0, 0, 0]: 0 stands for unset"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeConfig(strings.NewReader(c.yaml), "c.yaml")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDecodeConfigDefaultsAndOverrides(t *testing.T) {
	c, err := DecodeConfig(strings.NewReader("algorithm: ppo\nsteps: 4096\nseed: 9\nppo: {num_envs: 2}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := ppoOf(c)
	if p.TotalSteps != 4096 || p.Seed != 9 {
		t.Fatalf("steps/seed not passed to the algorithm: %+v", p)
	}
	if p.NumSteps != 128 || !p.AnnealLR || !p.NormalizeObs || p.NumEnvs != 2 {
		t.Fatalf("PPO defaults not kept under a partial section: %+v", p)
	}
	w, err := DecodeConfig(strings.NewReader("algorithm: ppo\nenv: {slo_weight: 10}\n"), "c.yaml")
	if err != nil || *w.Env.CostWeight != 1 || *w.Env.SLOWeight != 10 || *w.Env.DropWeight != 5 {
		t.Fatalf("one weight set: %v, weights %v %v %v, want 1 10 5", err, *w.Env.CostWeight, *w.Env.SLOWeight, *w.Env.DropWeight)
	}
	if c.CheckpointEvery != 409 || len(c.Traces) != 4 || c.Split != [3]float64{0.6, 0.2, 0.2} {
		t.Fatalf("defaults: checkpoint_every %d, %d traces, split %v", c.CheckpointEvery, len(c.Traces), c.Split)
	}
}

func TestShippedConfigsLoad(t *testing.T) {
	for _, name := range []string{"train-ppo.yaml", "train-dqn.yaml"} {
		c, err := LoadConfig(filepath.Join(repoRoot(t), "experiments", "configs", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Resolve(); err != nil {
			t.Fatal(err)
		}
		if len(c.Env.Traces) != 4 || !strings.HasSuffix(c.Env.Traces[0].Name, "-train") {
			t.Fatalf("%s: training traces %d, first %q", name, len(c.Env.Traces), c.Env.Traces[0].Name)
		}
		h1, _ := c.Hash()
		c.CheckpointEvery++
		if c.Algorithm == PPO {
			setPPO(&c, func(p *ppo.Config) { p.ParallelEnvs = !p.ParallelEnvs })
		}
		h2, _ := c.Hash()
		c.Seed++
		h3, _ := c.Hash()
		if h1 != h2 || h1 == h3 {
			t.Fatalf("%s: hash should ignore checkpoint_every and parallel_envs only (%s %s %s)", name, h1, h2, h3)
		}
	}
}

// TestConfigRoundTrip: the resolved YAML holds the algorithm's section under its
// name, and decoding it gives the same hash.
func TestConfigRoundTrip(t *testing.T) {
	for _, alg := range []string{PPO, DQN} {
		c := tinyConfig(alg)
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		y, err := c.resolvedYAML()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(y), "\n"+alg+":\n") {
			t.Fatalf("%s: resolved YAML has no %s section:\n%s", alg, alg, y)
		}
		d, err := DecodeConfig(strings.NewReader(string(y)), "config.yaml")
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		y2, _ := d.resolvedYAML()
		if string(y) != string(y2) {
			t.Fatalf("%s: resolved YAML changed on a round trip:\n%s\n---\n%s", alg, y, y2)
		}
	}
}

func TestCheckpointOfAnotherFormatRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), CheckpointFile)
	if err := os.WriteFile(path, []byte("INTELLISCALE-CHECKPOINT-1\n\x00\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := readCheckpoint(path)
	if err == nil || !strings.Contains(err.Error(), `format "1"`) || !strings.Contains(err.Error(), "new directory") {
		t.Fatalf("error %v: want a refusal naming format 1", err)
	}
}

// Errors found once a run resolves its configuration (loading the traces, the warm
// start's params) name the configuration file and line, as decoding's do, and say
// "train: " once.
func TestRunErrorsNameTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, yaml, want string }{
		{"missing trace file", "algorithm: ppo\nsteps: 4096\ntraces:\n  - file: missing.csv\n", "line 4: traces[0]: "},
		{"warm start params", "algorithm: ppo\nsteps: 4096\nwarm_start: {expert: oracle, params: {bogus: 1}}\n", "line 3: warm_start.params.bogus: unknown key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Run(cfg, filepath.Join(dir, "run-"+c.name), nil)
			if err == nil || !strings.HasPrefix(err.Error(), path+" "+c.want) {
				t.Fatalf("got %v, want prefix %q", err, path+" "+c.want)
			}
		})
	}
	// A configuration made in Go (an experiment's) has no file: its errors say "train: ".
	cfg := tinyConfig(PPO)
	cfg.Traces = []traces.Source{{File: filepath.Join(dir, "missing.csv")}}
	if _, err := Run(cfg, filepath.Join(dir, "run-go"), nil); err == nil || !strings.HasPrefix(err.Error(), "train: traces[0]: ") {
		t.Fatalf("got %v", err)
	}
}

// A training trace shorter than warm-up plus an episode cuts its episodes short:
// Run says so where Notes points, and not when the episodes fit.
func TestRunNotesEpisodesCutShort(t *testing.T) {
	for _, c := range []struct {
		episode time.Duration
		want    string
	}{
		{10 * time.Hour, `note: training trace "tiny-train" lasts 9h36m, less than env.warmup (5m) plus env.episode_length (10h): its episodes last 9h31m` + "\n"},
		{30 * time.Minute, ""},
	} {
		cfg := tinyConfig(PPO)
		cfg.Env.EpisodeLength = c.episode
		var notes bytes.Buffer
		cfg.Notes = &notes
		if _, err := Run(cfg, t.TempDir(), nil); err != nil {
			t.Fatal(err)
		}
		if notes.String() != c.want {
			t.Errorf("episode %v: notes %q, want %q", c.episode, notes.String(), c.want)
		}
	}
}
