package traces

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestSynthDistributionDeterministicAndPrefixStable(t *testing.T) {
	d := SynthDistribution{Count: 8, Seed: 11}
	a, err := d.Traces()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := d.Traces()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same distribution gave different traces")
	}
	// A smaller count keeps the first traces; another seed changes them.
	few, _ := SynthDistribution{Count: 3, Seed: 11}.Traces()
	if !reflect.DeepEqual(few, a[:3]) {
		t.Error("count 3 did not give the first 3 traces of count 8")
	}
	other, _ := SynthDistribution{Count: 3, Seed: 12}.Traces()
	for i := range other {
		if reflect.DeepEqual(other[i].Rates, a[i].Rates) {
			t.Errorf("seeds 11 and 12 gave the same trace %d", i)
		}
	}
}

func TestSynthDistributionCoversItsRanges(t *testing.T) {
	d := SynthDistribution{Count: 200, Seed: 3}
	if err := d.Validate(); err != nil { // the defaults, read below
		t.Fatal(err)
	}
	srcs, err := d.Sources()
	if err != nil {
		t.Fatal(err)
	}
	buckets := map[time.Duration]int{}
	names := map[string]bool{}
	var flash, steps, onoff, bursts, lowRate, highRate int
	for i, s := range srcs {
		sp := *s.Synth
		if err := sp.Validate(); err != nil {
			t.Fatalf("trace %d: %v", i, err)
		}
		names[sp.Name] = true
		buckets[sp.Bucket]++
		if want := d.Buckets[i%len(d.Buckets)]; sp.Bucket != want {
			t.Errorf("trace %d: bucket %v, want %v (in turn)", i, sp.Bucket, want)
		}
		if sp.BaseRate < 50 || sp.BaseRate > 400 {
			t.Errorf("trace %d: base rate %v outside [50, 400]", i, sp.BaseRate)
		}
		if sp.BaseRate < 100 {
			lowRate++
		}
		if sp.BaseRate > 200 {
			highRate++
		}
		if sp.Diurnal.Amplitude < 0 || sp.Diurnal.Amplitude > 0.6 || sp.Noise.Sigma < 0.05 || sp.Noise.Sigma > 0.3 {
			t.Errorf("trace %d: amplitude %v or sigma %v out of range", i, sp.Diurnal.Amplitude, sp.Noise.Sigma)
		}
		for _, st := range sp.Steps {
			if st.At < d.Duration/10 || st.At > d.Duration*9/10 {
				t.Errorf("trace %d: step at %v outside the middle 80%%", i, st.At)
			}
		}
		flash += len(sp.FlashCrowds)
		steps += len(sp.Steps)
		if sp.OnOff.MeanOn > 0 {
			onoff++
		}
		if sp.Bursts.PerDay > 0 {
			bursts++
		}
	}
	if len(names) != 200 || !names["random0"] || !names["random199"] {
		t.Errorf("names not random0..random199: %d distinct", len(names))
	}
	for _, b := range d.Buckets {
		if buckets[b] != 50 {
			t.Errorf("bucket %v used %d times, want 50", b, buckets[b])
		}
	}
	// Probabilities 1/2, 1/2, 1/4, 3/4 over 200 draws: well inside these bounds.
	// Log-uniform in [50, 400]: P(< 100) = P(> 200) = 1/3.
	for _, c := range []struct {
		what   string
		n      int
		lo, hi int
	}{{"flash crowds", flash, 70, 130}, {"steps", steps, 70, 130}, {"on/off", onoff, 25, 75}, {"bursts", bursts, 120, 180},
		{"base rate < 100", lowRate, 40, 95}, {"base rate > 200", highRate, 40, 95}} {
		if c.n < c.lo || c.n > c.hi {
			t.Errorf("%s in %d of 200 traces, want %d to %d", c.what, c.n, c.lo, c.hi)
		}
	}
}

func TestSynthDistributionTracesAreWhole(t *testing.T) {
	trs, err := SynthDistribution{Count: 4, Seed: 5, Duration: 2 * time.Hour}.Traces()
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range trs {
		if tr.Duration() != 2*time.Hour {
			t.Errorf("%s: %v long, want 2h", tr.Name, tr.Duration())
		}
		for _, r := range tr.Rates {
			if !(r >= 0) || math.IsInf(r, 0) {
				t.Fatalf("%s: rate %v", tr.Name, r)
			}
		}
	}
}

func TestTrafficErrorsNameTheField(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{`{}`, "empty: set random"},
		{`random: {seed: 3}`, "random.count: required"},
		{`random: {count: 2000}`, "random.count: 2000: must be at most 1000"},
		{`random: {count: 2, buckets: [7s]}`, "random.buckets[0]: 7s: must divide the duration 24h"},
		{`random: {count: 2, base_rate: [10, 5]}`, "random.base_rate: [10 5]: want 0 < low <= high"},
		{`random: {count: 2, name: "a/b"}`, "random.name"},
		{`traces: [{builtin: nope}]`, "traces[0].builtin"},
	} {
		var tr Traffic
		if err := yaml.Unmarshal([]byte(c.yaml), &tr); err != nil {
			t.Fatal(err)
		}
		err := tr.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.yaml, err, c.want)
		}
	}
	tr := Traffic{Random: &SynthDistribution{Count: 2}, Traces: []Source{{Builtin: "bursty"}}}
	srcs, paths, err := tr.Sources()
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 3 || !reflect.DeepEqual(paths, []string{"random", "random", "traces[0]"}) || srcs[2].Builtin != "bursty" {
		t.Errorf("sources %d, paths %v", len(srcs), paths)
	}
}
