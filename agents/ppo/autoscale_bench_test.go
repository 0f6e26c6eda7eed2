package ppo

import (
	"math"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/env"
	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// BenchmarkPPOAutoscale measures PPO training throughput on the autoscaling env over a
// synthetic 3-hour diurnal-like trace (1-hour episodes), sequential and parallel copies.
func BenchmarkPPOAutoscale(b *testing.B) {
	rates := make([]float64, 180)
	for i := range rates {
		rates[i] = 50 + 40*math.Sin(2*math.Pi*float64(i)/60)
	}
	tr := &traces.Trace{Name: "wave", Bucket: time.Minute, Rates: rates}
	for _, parallel := range []bool{false, true} {
		name := "sequential"
		if parallel {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.TotalSteps = 1_000_000_000 // the bound: never done within b.N updates
			cfg.NormalizeObs = true
			cfg.ParallelEnvs = parallel
			var buildErr error
			t, err := NewTrainer(cfg, func(int) env.Env {
				a, err := env.NewAutoscale(env.AutoscaleConfig{
					Sim: sim.Config{MaxReplicas: 30}, Traces: []*traces.Trace{tr}, EpisodeLength: time.Hour,
				})
				if err != nil {
					buildErr = err
					return nil
				}
				return a
			})
			if buildErr != nil {
				b.Fatal(buildErr)
			}
			if err != nil {
				b.Fatal(err)
			}
			defer t.Close()
			b.ResetTimer()
			for range b.N {
				t.Update()
			}
			b.ReportMetric(float64(b.N*cfg.BatchSize())/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
