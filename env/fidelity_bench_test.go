package env

import (
	"fmt"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/sim"
	"github.com/intelliscale/intelliscale/traces"
)

// fidelityConfig is the environment on a synthetic diurnal trace whose mean rate
// needs about replicas replicas (4 slots of 0.1 s each: 40 requests/s per replica at
// full utilisation, about 28 at the SLO).
func fidelityConfig(tb testing.TB, fidelity string, replicas int) AutoscaleConfig {
	tb.Helper()
	tr, err := traces.Synthesize(traces.SynthSpec{Name: "bench", Duration: 24 * time.Hour, Bucket: time.Minute,
		BaseRate: 28 * float64(replicas), Diurnal: traces.Diurnal{Amplitude: 0.3, PeakHour: 14},
		Noise: traces.Noise{Kind: traces.NoiseLognormal, Sigma: 0.1}}, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return AutoscaleConfig{Sim: sim.Config{MaxReplicas: 4 * replicas}, Traces: []*traces.Trace{tr},
		EpisodeLength: 2 * time.Hour, Fidelity: fidelity, RateScale: [2]float64{1, 1}}
}

// BenchmarkAutoscaleFidelity reports environment steps per second (one step: one
// 15 s control interval, features included) for each fidelity at about 10 and 100
// replicas, holding the count (action "no change").
func BenchmarkAutoscaleFidelity(b *testing.B) {
	for _, fid := range []string{FidelityRequest, FidelityFluid} {
		for _, n := range []int{10, 100} {
			b.Run(fmt.Sprintf("%s/replicas=%d", fid, n), func(b *testing.B) {
				benchSteps(b, fidelityConfig(b, fid, n))
			})
		}
	}
}

// TestFluidFidelityRewardsAlike: the same actions give per-episode rewards within 10%
// on the two fidelities, and the fluid episode's observations are finite and within
// the observation space.
func TestFluidFidelityRewardsAlike(t *testing.T) {
	var ret [2]float64
	for i, fid := range []string{FidelityRequest, FidelityFluid} {
		a, err := NewAutoscale(fidelityConfig(t, fid, 10))
		if err != nil {
			t.Fatal(err)
		}
		obs, _ := a.Reset(5)
		for k := 0; ; k++ {
			if !a.ObservationSpace().Contains(obs) {
				t.Fatalf("%s step %d: observation %v outside the space", fid, k, obs)
			}
			var r float64
			var trunc bool
			obs, r, _, trunc, _ = a.Step([]int{3, 4, 2, 3}[k%4])
			ret[i] += r
			if trunc {
				break
			}
		}
	}
	if d := (ret[1] - ret[0]) / ret[0]; d > 0.1 || d < -0.1 {
		t.Fatalf("episode return %v (request) vs %v (fluid): %.1f%% apart", ret[0], ret[1], 100*d)
	}
}

// BenchmarkFluidBucket reports the fluid fidelity's environment steps per second on
// the service of experiments/configs/default.yaml (lognormal, mean 0.25 s, CV 0.5, one
// slot: 4 requests/s per replica at full utilisation) at about 10 and 100 replicas,
// on traffic in 1 s and 5 min buckets, holding the count.
func BenchmarkFluidBucket(b *testing.B) {
	for _, bucket := range []time.Duration{time.Second, 5 * time.Minute} {
		for _, n := range []int{10, 100} {
			b.Run(fmt.Sprintf("bucket=%v/replicas=%d", bucket, n), func(b *testing.B) {
				tr, err := traces.Synthesize(traces.SynthSpec{Name: "bench", Duration: 24 * time.Hour, Bucket: bucket,
					BaseRate: 3 * float64(n), Diurnal: traces.Diurnal{Amplitude: 0.3, PeakHour: 14},
					Noise: traces.Noise{Kind: traces.NoiseLognormal, Sigma: 0.1}}, 1)
				if err != nil {
					b.Fatal(err)
				}
				benchSteps(b, AutoscaleConfig{Sim: sim.Config{MaxReplicas: 4 * n, Concurrency: 1,
					ServiceTime: sim.Dist{Kind: sim.LogNormal, Mean: 0.25, CV: 0.5},
					SLO:         sim.SLO{Latency: time.Second, Target: 0.95}},
					Traces: []*traces.Trace{tr}, EpisodeLength: 2 * time.Hour, Fidelity: FidelityFluid, RateScale: [2]float64{1, 1}})
			})
		}
	}
}

// benchSteps steps the environment of cfg b.N times holding the count, resetting at
// each episode's end, and reports steps per second.
func benchSteps(b *testing.B, cfg AutoscaleConfig) {
	a, err := NewAutoscale(cfg)
	if err != nil {
		b.Fatal(err)
	}
	a.Reset(1)
	hold := 3 // the index of 0 in the default actions
	seed := uint64(2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, _, trunc, _ := a.Step(hold); trunc {
			b.StopTimer()
			a.Reset(seed)
			seed++
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
