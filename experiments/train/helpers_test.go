package train

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/agents/dqn"
	"github.com/intelliscale/intelliscale/agents/ppo"
	"github.com/intelliscale/intelliscale/internal/repo"
	"github.com/intelliscale/intelliscale/traces"
)

// tinyConfig trains on a 12-hour synthetic trace with 30-minute episodes and small
// networks, so that a run takes a second or two.
func tinyConfig(alg string) Config {
	c := DefaultConfig(alg)
	c.Traces = []traces.Source{{Synth: &traces.SynthSpec{
		Name: "tiny", Duration: 12 * time.Hour, Bucket: time.Minute, BaseRate: 40,
		Diurnal: traces.Diurnal{Amplitude: 0.5, PeakHour: 14},
		Noise:   traces.Noise{Kind: traces.NoiseLognormal, Sigma: 0.1},
	}}}
	c.Split = [3]float64{0.8, 0.1, 0.1}
	c.Env.EpisodeLength = 30 * time.Minute
	c.Env.Warmup = 5 * time.Minute
	c.Env.Sim.MaxReplicas = 20
	c.Steps = 1536
	c.CheckpointEvery = -1
	switch alg {
	case PPO:
		setPPO(&c, func(p *ppo.Config) {
			p.NumEnvs, p.NumSteps, p.NumMinibatches, p.UpdateEpochs = 2, 128, 4, 2
			p.Hidden = []int{16, 16}
			p.LearningRate = 1e-3
		})
	case DQN:
		setDQN(&c, func(d *dqn.Config) {
			d.LearningStarts, d.BufferSize, d.BatchSize = 200, 1000, 32
			d.TrainFrequency, d.TargetNetworkFrequency = 4, 100
			d.Hidden = []int{16, 16}
		})
	}
	return c
}

// ppoOf and dqnOf are a configuration's hyperparameters (of that algorithm).
func ppoOf(c Config) ppo.Config { return *c.Learner.(*ppo.Config) }
func dqnOf(c Config) dqn.Config { return *c.Learner.(*dqn.Config) }

// setPPO and setDQN change a copy of c's hyperparameters (a Config's Learner is a
// pointer, shared by copies of the Config).
func setPPO(c *Config, f func(*ppo.Config)) {
	p := ppoOf(*c)
	p.Hidden = slices.Clone(p.Hidden)
	f(&p)
	c.Learner = &p
}

func setDQN(c *Config, f func(*dqn.Config)) {
	d := dqnOf(*c)
	d.Hidden = slices.Clone(d.Hidden)
	f(&d)
	c.Learner = &d
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withoutSPS drops progress.csv's last column (steps_per_second, wall-clock).
func withoutSPS(b []byte) string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		out = append(out, l[:strings.LastIndexByte(l, ',')])
	}
	return strings.Join(out, "\n")
}

// repoRoot walks up from the package directory to go.mod.
func repoRoot(t *testing.T) string { return repoRootFrom(t) }

func repoRootFrom(t testing.TB) string {
	t.Helper()
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// tinyLagrangianConfig is tinyConfig(PPO) with the Lagrange multiplier on; the tiny
// budget keeps it moving.
func tinyLagrangianConfig() Config {
	c := tinyConfig(PPO)
	c.Lagrangian = LagrangianConfig{Enabled: true, Budget: 0.002, LearningRate: 20}
	return c
}

// progressColumn returns a progress.csv column's values, parsed.
func progressColumn(t *testing.T, path, name string) []float64 {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(readFile(t, path))), "\n")
	col := slices.Index(strings.Split(lines[0], ","), name)
	if col < 0 {
		t.Fatalf("%s: no column %q", path, name)
	}
	var out []float64
	for _, l := range lines[1:] {
		v, err := strconv.ParseFloat(strings.Split(l, ",")[col], 64)
		if err != nil {
			t.Fatalf("%s: column %s: %v", path, name, err)
		}
		out = append(out, v)
	}
	return out
}
