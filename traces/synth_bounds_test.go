package traces

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestSynthSpecBounds: a factor or noise level that would overflow the trace (or, for
// noise, silently zero it) is refused when the spec is read, naming the file, line
// and field.
func TestSynthSpecBounds(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"bursts: {per_day: 2, magnitude: 1e300}\n", "s.yaml line 1: bursts.magnitude: 1e+300: must be finite and > 0, at most 1e+06 (traces.MaxSynthFactor)"},
		{"trend_per_day: 1e300\n", "s.yaml line 1: trend_per_day: 1e+300: must be finite and >= -1e+06, at most 1e+06 (traces.MaxSynthFactor)"},
		{"trend_per_day: -1e300\n", "s.yaml line 1: trend_per_day: -1e+300: must be finite and >= -1e+06"},
		{"trend_per_day: .nan\n", "s.yaml line 1: trend_per_day: NaN: must be finite"},
		{"steps:\n  - {at: 1h, factor: 2}\n  - {at: 2h, factor: 1e300}\n", "s.yaml line 3: steps[1].factor: 1e+300: must be finite and >= 0, at most 1e+06"},
		{"flash_crowds: [{at: 1h, peak: 1e7}]\n", "s.yaml line 1: flash_crowds[0].peak: 1e+07: must be finite and > 0, at most 1e+06"},
		{"on_off: {on_factor: 1e300, mean_on: 1h, mean_off: 1h}\n", "s.yaml line 1: on_off.on_factor: 1e+300: must be finite and > 0, at most 1e+06"},
		{"on_off: {off_factor: .inf, mean_on: 1h, mean_off: 1h}\n", "s.yaml line 1: on_off.off_factor: +Inf: must be finite and >= 0, at most 1e+06"},
		{"noise: {sigma: 1e300}\n", "s.yaml line 1: noise.sigma: 1e+300: must be in [0, 3] (traces.MaxNoiseSigma)"},
		{"noise: {kind: gaussian, sigma: 3.5}\n", "s.yaml line 1: noise.sigma: 3.5: must be in [0, 3]"},
		{"noise: {sigma: .nan}\n", "s.yaml line 1: noise.sigma: NaN: must be in [0, 3]"},
	} {
		_, err := DecodeSynthSpec(strings.NewReader(tc.yaml), "s.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}

// TestSynthAtBounds: specs at the bounds synthesize finite, non-negative traces with
// the rates the formula gives, and a product of bounded factors that overflows is
// refused, naming the spec and bucket, not written as a trace.
func TestSynthAtBounds(t *testing.T) {
	// One step of MaxSynthFactor lifts 1 request/s exactly to MaxRate.
	tr, err := Synthesize(SynthSpec{Duration: 2 * time.Hour, BaseRate: 1, Steps: []Step{{At: time.Hour, Factor: MaxSynthFactor}}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Rates[0] != 1 || tr.Rates[len(tr.Rates)-1] != MaxRate {
		t.Errorf("step of %g: rates %v ... %v, want 1 ... %g", MaxSynthFactor, tr.Rates[0], tr.Rates[len(tr.Rates)-1], MaxRate)
	}
	// Noise at MaxNoiseSigma: finite, non-negative, and not all zero.
	for _, kind := range []string{NoiseLognormal, NoiseGaussian} {
		tr, err := Synthesize(SynthSpec{Duration: 24 * time.Hour, BaseRate: 1, Noise: Noise{Kind: kind, Sigma: MaxNoiseSigma}}, 1)
		if err != nil {
			t.Fatalf("%s noise at sigma %g: %v", kind, MaxNoiseSigma, err)
		}
		positive := 0
		for i, r := range tr.Rates {
			if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
				t.Fatalf("%s noise at sigma %g: bucket %d rate %v", kind, MaxNoiseSigma, i, r)
			}
			if r > 0 {
				positive++
			}
		}
		// Lognormal factors are never 0; gaussian ones are 0 with P(z < -1/3) ≈ 0.37.
		if min := map[string]int{NoiseLognormal: len(tr.Rates), NoiseGaussian: len(tr.Rates) / 2}[kind]; positive < min {
			t.Errorf("%s noise at sigma %g: %d of %d buckets above 0, want at least %d", kind, MaxNoiseSigma, positive, len(tr.Rates), min)
		}
	}
	// Compounding: 60 steps of 1e6 overflow float64; refused, naming the bucket.
	var steps []Step
	for range 60 {
		steps = append(steps, Step{At: time.Hour, Factor: MaxSynthFactor})
	}
	for _, spec := range []SynthSpec{
		{Name: "steps", Duration: 2 * time.Hour, Steps: steps},
		{Name: "steps", Duration: 2 * time.Hour, Steps: append(steps, Step{At: time.Hour})}, // Inf · 0
	} {
		tr, err := Synthesize(spec, 1)
		if err == nil || !strings.Contains(err.Error(), `synth spec "steps": bucket 60 (at 1h): rate `) || !strings.Contains(err.Error(), "base_rate (100) times the spec's factors") {
			t.Errorf("%d steps: trace %v, error %v; want the spec and bucket 60 named", len(spec.Steps), tr != nil, err)
		}
	}
}
