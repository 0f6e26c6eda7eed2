package traces

import (
	"fmt"
	"strings"
	"time"
)

// DefaultSeed is the seed Default synthesizes the built-in traces with.
const DefaultSeed = 1

// DefaultSpecs returns the project's built-in benchmark traces, all at 60 s buckets.
// Figures are for DefaultSeed (rates in requests per second):
//
//   - diurnal-weekly: 7 days; 90 req/s with a ±70% daily cycle peaking at 14:00,
//     weekends 20% lower, lognormal noise σ 0.08. Mean 85, min 17, p95 155, peak 195;
//     51.4 M requests.
//   - bursty: 3 days; 60 req/s with a ±45% daily cycle, 8 Poisson bursts a day of
//     +90% lasting 8 min on average, a flash crowd (2.2×, 4 min rise, 25 min decay)
//     at 38h (14:00 on day 2), noise σ 0.1. Mean 64, min 25, p95 100, peak 303;
//     16.4 M requests.
//   - step: 3 days; 50 req/s with a ±30% daily cycle, a step ×2.5 at 30h and ×0.6 at
//     54h, noise σ 0.05. Mean 82, min 31, p95 157, peak 184; 21.2 M requests.
//   - onoff: 2 days; 110 req/s with a ±20% daily cycle, modulated by an on/off chain
//     (on 1.6× for 15 min on average, off 0.3× for 10 min), noise σ 0.05. Mean 122,
//     min 23, p95 213, peak 244; 21.1 M requests.
//
// Use Split to cut each into train, validation and test windows.
func DefaultSpecs() []SynthSpec {
	day := 24 * time.Hour
	return []SynthSpec{
		{
			Name: "diurnal-weekly", Duration: 7 * day, Bucket: time.Minute, BaseRate: 90,
			Diurnal:    Diurnal{Amplitude: 0.7, PeakHour: 14},
			WeekendDip: 0.2,
			Noise:      Noise{Kind: NoiseLognormal, Sigma: 0.08},
		},
		{
			Name: "bursty", Duration: 3 * day, Bucket: time.Minute, BaseRate: 60,
			Diurnal:     Diurnal{Amplitude: 0.45, PeakHour: 14},
			Bursts:      Bursts{PerDay: 8, Magnitude: 0.9, Duration: 8 * time.Minute},
			FlashCrowds: []FlashCrowd{{At: 38 * time.Hour, Peak: 2.2, Rise: 4 * time.Minute, Decay: 25 * time.Minute}},
			Noise:       Noise{Kind: NoiseLognormal, Sigma: 0.1},
		},
		{
			Name: "step", Duration: 3 * day, Bucket: time.Minute, BaseRate: 50,
			Diurnal: Diurnal{Amplitude: 0.3, PeakHour: 14},
			Steps:   []Step{{At: 30 * time.Hour, Factor: 2.5}, {At: 54 * time.Hour, Factor: 0.6}},
			Noise:   Noise{Kind: NoiseLognormal, Sigma: 0.05},
		},
		{
			Name: "onoff", Duration: 2 * day, Bucket: time.Minute, BaseRate: 110,
			Diurnal: Diurnal{Amplitude: 0.2, PeakHour: 14},
			OnOff:   OnOff{OnFactor: 1.6, OffFactor: 0.3, MeanOn: 15 * time.Minute, MeanOff: 10 * time.Minute},
			Noise:   Noise{Kind: NoiseLognormal, Sigma: 0.05},
		},
	}
}

// DefaultSpec returns the built-in spec called name.
func DefaultSpec(name string) (SynthSpec, error) {
	var names []string
	for _, s := range DefaultSpecs() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return SynthSpec{}, fmt.Errorf("no built-in trace %q (have %s)", name, strings.Join(names, ", "))
}

// Default synthesizes every built-in trace with DefaultSeed.
func Default() ([]*Trace, error) {
	var out []*Trace
	for _, s := range DefaultSpecs() {
		t, err := Synthesize(s, DefaultSeed)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
