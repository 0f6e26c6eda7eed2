package train

import (
	"path/filepath"
	"strings"
	"testing"
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
		{"ppo value", "algorithm: ppo\nppo:\n  learning_rate: -1\n", []string{"line 2", "ppo", "learning_rate"}},
		{"dqn value", "algorithm: dqn\ndqn:\n  gamma: 2\n", []string{"line 2", "dqn", "gamma"}},
		{"split sum", "algorithm: ppo\nsplit: [0.5, 0.1, 0.1]\n", []string{"line 2", "split", "sum to 1"}},
		{"two sources", "algorithm: ppo\ntraces:\n  - builtin: bursty\n  - builtin: step\n    file: x.csv\n", []string{"line 4", "traces[1]"}},
		{"unknown builtin", "algorithm: ppo\ntraces:\n  - builtin: nope\n", []string{"line 3", "traces[0].builtin", "nope"}},
		{"bad steps", "algorithm: dqn\nsteps: -5\n", []string{"line 2", "steps"}},
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
	if c.PPO.TotalSteps != 4096 || c.PPO.Seed != 9 || c.DQN.Seed != 9 {
		t.Fatalf("steps/seed not passed to the algorithms: %+v", c.PPO)
	}
	if c.PPO.NumSteps != 128 || !c.PPO.AnnealLR || !c.PPO.NormalizeObs || c.PPO.NumEnvs != 2 {
		t.Fatalf("PPO defaults not kept under a partial section: %+v", c.PPO)
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
		c.PPO.ParallelEnvs = !c.PPO.ParallelEnvs
		h2, _ := c.Hash()
		c.Seed++
		h3, _ := c.Hash()
		if h1 != h2 || h1 == h3 {
			t.Fatalf("%s: hash should ignore checkpoint_every and parallel_envs only (%s %s %s)", name, h1, h2, h3)
		}
	}
}
