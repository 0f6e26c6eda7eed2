package train

import (
	"path/filepath"
	"testing"

	"github.com/intelliscale/intelliscale/agents/dqn"
	"github.com/intelliscale/intelliscale/agents/ppo"
)

// benchmarkTrain runs the shipped configuration for 8192 steps per iteration
// (checkpoint and export at the end included) and reports environment steps per
// second of training.
func benchmarkTrain(b *testing.B, file string, parallel bool) {
	root := repoRootB(b)
	cfg, err := LoadConfig(filepath.Join(root, "experiments", "configs", file))
	if err != nil {
		b.Fatal(err)
	}
	cfg.Steps, cfg.CheckpointEvery = 8192, -1
	switch cfg.Algorithm {
	case PPO:
		setPPO(&cfg, func(p *ppo.Config) { p.ParallelEnvs = parallel })
	case DQN:
		setDQN(&cfg, func(d *dqn.Config) { d.LearningStarts = 1000 }) // learn during the benchmark, not only explore
	}
	steps := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := Run(cfg, b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		steps += p.Training.Steps
	}
	b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
}

func BenchmarkTrainPPO(b *testing.B)         { benchmarkTrain(b, "train-ppo.yaml", false) }
func BenchmarkTrainPPOParallel(b *testing.B) { benchmarkTrain(b, "train-ppo.yaml", true) }
func BenchmarkTrainDQN(b *testing.B)         { benchmarkTrain(b, "train-dqn.yaml", false) }

func repoRootB(b *testing.B) string { return repoRootFrom(b) }
