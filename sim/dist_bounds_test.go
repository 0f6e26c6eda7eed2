package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// TestDistBoundsRefused checks that parameters which would make samples non-finite
// (or meaningless) are refused by Dist.Validate, naming the field.
func TestDistBoundsRefused(t *testing.T) {
	cases := []struct {
		d     Dist
		field string
		msg   string
	}{
		{Dist{Kind: LogNormal, Mean: 0.1, CV: 1e200}, "service_time.cv", "service_time.cv: 1e+200: must be in (0, 100]"},
		{Dist{Kind: LogNormal, Mean: 0.1, CV: MaxCV * 1.0001}, "service_time.cv", ""},
		{Dist{Kind: LogNormal, Mean: 0.1, CV: math.Inf(1)}, "service_time.cv", ""},
		{Dist{Kind: LogNormal, Mean: 0.1, CV: math.NaN()}, "service_time.cv", ""},
		{Dist{Kind: Exponential, Mean: 1e300}, "service_time.mean", "service_time.mean: 1e+300: must be at most 1e+09 seconds"},
		{Dist{Kind: Constant, Mean: 2e9}, "service_time.mean", ""},
		{Dist{Kind: LogNormal, Mean: 1e300, CV: 1}, "service_time.mean", ""},
		{Dist{Kind: Empirical, Samples: []float64{0.1, 1e308}}, "service_time.samples[1]", "service_time.samples[1]: 1e+308: must be finite and in [0, 1e+09]"},
	}
	for _, tc := range cases {
		err := tc.d.Validate("service_time")
		var fe *yamldoc.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%+v: error %v, want a *yamldoc.FieldError", tc.d, err)
			continue
		}
		if fe.Path != tc.field {
			t.Errorf("%+v: error names %q, want %q (%v)", tc.d, fe.Path, tc.field, err)
		}
		if tc.msg != "" && err.Error() != tc.msg {
			t.Errorf("%+v: error %q, want %q", tc.d, err, tc.msg)
		}
	}
	// Through Config the error keeps the YAML path.
	c := Config{ServiceTime: Dist{Kind: LogNormal, Mean: 0.1, CV: 1e200}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "service_time.cv") {
		t.Errorf("config with cv 1e200: error %v, want one naming service_time.cv", err)
	}
}

// TestDistAtBoundsSamplesFinite checks that the largest accepted parameters still
// give finite, non-negative samples (positive except empirical's 0) and
// in-range nanosecond draws, and that the lognormal at MaxCV keeps its mean.
func TestDistAtBoundsSamplesFinite(t *testing.T) {
	dists := []Dist{
		{Kind: LogNormal, Mean: 0.1, CV: MaxCV},
		{Kind: LogNormal, Mean: MaxDistSeconds, CV: MaxCV},
		{Kind: Exponential, Mean: MaxDistSeconds},
		{Kind: Constant, Mean: MaxDistSeconds},
		{Kind: Empirical, Samples: []float64{0, MaxDistSeconds}},
	}
	for _, d := range dists {
		if err := d.Validate("d"); err != nil {
			t.Fatalf("%+v: %v, want accepted", d, err)
		}
		s := newSampler(d)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range 200000 {
			x := s.sample(r)
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || (d.Kind != Empirical && x == 0) {
				t.Fatalf("%+v: draw %d = %v, want finite and positive", d, i, x)
			}
			if ns := s.sampleNs(r); ns < 0 {
				t.Fatalf("%+v: nanosecond draw %d = %d, want >= 0", d, i, ns)
			}
		}
	}
	// The lognormal at MaxCV: the median is mean/sqrt(1+cv²), about 1e-3 s for
	// mean 0.1, so half of the draws fall below it.
	d := Dist{Kind: LogNormal, Mean: 0.1, CV: MaxCV}
	s := newSampler(d)
	r := rand.New(rand.NewPCG(3, 4))
	median := d.Mean / math.Sqrt(1+MaxCV*MaxCV)
	below, n := 0, 100000
	for range n {
		x := s.sample(r)
		if !(x > 0) || math.IsInf(x, 0) {
			t.Fatalf("lognormal at MaxCV: draw %v, want finite and > 0", x)
		}
		if x < median {
			below++
		}
	}
	if share := float64(below) / float64(n); math.Abs(share-0.5) > 0.01 {
		t.Errorf("lognormal at MaxCV: %.3f of draws below the median %g, want 0.5", share, median)
	}
}
