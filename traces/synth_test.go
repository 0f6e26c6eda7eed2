package traces

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestSynthesizeDeterministic(t *testing.T) {
	spec := DefaultSpecs()[1] // bursty: every random component
	spec.OnOff = OnOff{OnFactor: 2, OffFactor: 0.5, MeanOn: 20 * time.Minute, MeanOff: 10 * time.Minute}
	a, err := Synthesize(spec, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Synthesize(spec, 42)
	c, _ := Synthesize(spec, 43)
	same, differ := true, false
	for i := range a.Rates {
		same = same && math.Float64bits(a.Rates[i]) == math.Float64bits(b.Rates[i])
		differ = differ || a.Rates[i] != c.Rates[i]
	}
	if !same {
		t.Error("same spec and seed gave different traces")
	}
	if !differ {
		t.Error("seeds 42 and 43 gave the same trace")
	}
}

func TestSynthesizeDiurnalPeak(t *testing.T) {
	for _, peak := range []float64{3, 14, 21.5, 24} {
		tr, err := Synthesize(SynthSpec{Duration: 48 * time.Hour, Bucket: 30 * time.Minute, BaseRate: 50, Diurnal: Diurnal{Amplitude: 0.8, PeakHour: peak}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		best := 0
		for i, r := range tr.Rates[:48] { // day 1
			if r > tr.Rates[best] {
				best = i
			}
		}
		// The bucket whose midpoint is closest to the peak hour.
		mid := (float64(best) + 0.5) / 2 // hours
		if d := math.Abs(math.Mod(mid-peak+36, 24) - 12); d > 0.25+1e-9 {
			t.Errorf("peak hour %v: maximum at bucket %d (midpoint %vh)", peak, best, mid)
		}
		st, _ := Info(tr)
		// Cosine: mean over whole days is the base rate, extremes base·(1 ± A·cos(π/48)).
		if !approxEq(st.Mean, 50, 1e-12) || st.Peak > 90 || st.Peak < 90*math.Cos(math.Pi/48) || st.Min < 10-1e-9 {
			t.Errorf("peak hour %v: mean %v peak %v min %v", peak, st.Mean, st.Peak, st.Min)
		}
	}
}

func TestSynthesizeComponents(t *testing.T) {
	base := SynthSpec{Duration: 14 * 24 * time.Hour, Bucket: time.Hour, BaseRate: 10}
	flat, _ := Synthesize(base, 1)
	for _, r := range flat.Rates {
		if r != 10 {
			t.Fatalf("flat trace has rate %v", r)
		}
	}

	s := base
	s.Steps = []Step{{At: 50 * time.Hour, Factor: 3}, {At: 100 * time.Hour, Factor: 0.5}}
	tr, _ := Synthesize(s, 1)
	if tr.Rates[49] != 10 || tr.Rates[50] != 30 || tr.Rates[99] != 30 || tr.Rates[100] != 15 {
		t.Errorf("steps: rates around the steps %v %v %v %v", tr.Rates[49], tr.Rates[50], tr.Rates[99], tr.Rates[100])
	}

	s = base
	s.WeekendDip = 0.4
	tr, _ = Synthesize(s, 1)
	for d := 0; d < 14; d++ {
		want := 10.0
		if d%7 >= 5 {
			want = 6
		}
		if r := tr.Rates[d*24+12]; !approxEq(r, want, 1e-12) {
			t.Errorf("day %d: rate %v, want %v", d, r, want)
		}
	}

	s = base
	s.TrendPerDay = 0.1
	tr, _ = Synthesize(s, 1)
	if r := tr.Rates[24*10]; !approxEq(r, 10*(1+0.1*(240.5/24)), 1e-12) {
		t.Errorf("trend: rate at day 10 %v", r)
	}

	s = base
	s.FlashCrowds = []FlashCrowd{{At: 100 * time.Hour, Peak: 5, Rise: 2 * time.Hour, Decay: 3 * time.Hour}}
	tr, _ = Synthesize(s, 1)
	if tr.Rates[99] != 10 || !approxEq(tr.Rates[100], 10*(1+4*0.25), 1e-12) || !approxEq(tr.Rates[102], 10*(1+4*math.Exp(-0.5/3)), 1e-12) {
		t.Errorf("flash crowd: %v", tr.Rates[98:106])
	}

	s = base
	s.Noise = Noise{Sigma: 0.3}
	tr, _ = Synthesize(s, 1)
	st, _ := Info(tr)
	// Lognormal noise has mean 1: 336 buckets, standard error ~ 0.31/sqrt(336) ≈ 1.7%.
	if math.Abs(st.Mean-10) > 0.7 || st.Min <= 0 {
		t.Errorf("lognormal noise: mean %v min %v", st.Mean, st.Min)
	}

	s = base
	s.Bucket = time.Minute
	s.Bursts = Bursts{PerDay: 24, Magnitude: 2, Duration: 10 * time.Minute}
	tr, _ = Synthesize(s, 1)
	st, _ = Info(tr)
	// Expected extra: rate 1/h × 10 min × magnitude 2 = 1/3 of the base.
	if st.Mean < 10*(1+0.2) || st.Mean > 10*(1+0.47) || st.Min != 10 || st.Peak < 30-1e-9 {
		t.Errorf("bursts: mean %v min %v peak %v", st.Mean, st.Min, st.Peak)
	}

	s = base
	s.Bucket = time.Minute
	s.OnOff = OnOff{OnFactor: 2, OffFactor: 0, MeanOn: 30 * time.Minute, MeanOff: 90 * time.Minute}
	tr, _ = Synthesize(s, 1)
	st, _ = Info(tr)
	// Long-run share of time on: 30/(30+90) = 1/4, so mean ≈ 10·2/4 = 5.
	if math.Abs(st.Mean-5) > 1 || st.Min != 0 || st.Peak != 20 {
		t.Errorf("on/off: mean %v min %v peak %v", st.Mean, st.Min, st.Peak)
	}
}

func TestSynthSpecErrors(t *testing.T) {
	tests := []struct {
		yaml, want string
	}{
		{"", "s.yaml: empty spec"},
		{"base_rate: 10\nbogus: 1\n", `s.yaml line 2: bogus: unknown key "bogus"`},
		{"duration: 90s\nbucket: 60s\n", "s.yaml line 1: duration: 1m30s: must be a positive multiple of the bucket 1m0s"},
		{"base_rate: -1\n", "s.yaml line 1: base_rate: -1: must be in [0, 1e+06]"},
		{"diurnal: {amplitude: 1.5}\n", "s.yaml line 1: diurnal.amplitude: 1.5: must be in [0, 1]"},
		{"diurnal: {peak_hour: 25}\n", "s.yaml line 1: diurnal.peak_hour: 25: must be in (0, 24]"},
		{"noise: {kind: pink}\n", `noise.kind: "pink"`},
		{"on_off: {mean_on: 10m}\n", `on_off: "mean_on 10m0s, mean_off 0s": both must be > 0`},
		{"flash_crowds: [{at: 1h}]\n", "flash_crowds[0].peak: 0: must be finite and > 0"},
		{"steps: [{at: 1h, factor: 2}, {at: -1h, factor: 1}]\n", "steps[1].at: -1h: must be >= 0"},
		{"bursts: {per_day: 100000}\n", "bursts.per_day: 100000: more than one burst per bucket"},
	}
	for _, tc := range tests {
		_, err := DecodeSynthSpec(strings.NewReader(tc.yaml), "s.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
	s, err := DecodeSynthSpec(strings.NewReader("name: x\nduration: 2h\nnoise: {sigma: 0.1}\nsteps: [{at: 1h, factor: 2}]\n"), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Bucket != time.Minute || s.BaseRate != 100 || s.Diurnal.PeakHour != 14 || s.Noise.Kind != NoiseLognormal || s.Duration != 2*time.Hour || len(s.Steps) != 1 {
		t.Errorf("defaults not filled: %+v", s)
	}
}

func TestDefaultTraces(t *testing.T) {
	ts, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tr := range ts {
		seen[tr.Name] = true
		st, _ := Info(tr)
		// The range the benchmark is built for: peaks ~150-300, troughs ~15-40 req/s.
		if st.Peak < 150 || st.Peak > 320 || st.Min < 10 || st.Min > 40 || tr.Bucket != time.Minute || st.Duration < 48*time.Hour {
			t.Errorf("%s: peak %.1f min %.1f bucket %v duration %v", tr.Name, st.Peak, st.Min, tr.Bucket, st.Duration)
		}
		if _, _, _, err := Split(tr, [3]float64{0.6, 0.2, 0.2}); err != nil {
			t.Errorf("%s: %v", tr.Name, err)
		}
	}
	for _, n := range []string{"diurnal-weekly", "bursty", "step", "onoff"} {
		if !seen[n] {
			t.Errorf("no built-in %q", n)
		}
		if _, err := DefaultSpec(n); err != nil {
			t.Error(err)
		}
	}
	if _, err := DefaultSpec("nope"); err == nil || !strings.Contains(err.Error(), "have diurnal-weekly, bursty") {
		t.Errorf("unknown default: %v", err)
	}
}
