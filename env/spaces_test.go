package env

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBoxContainsAndSample(t *testing.T) {
	inf := math.Inf(1)
	b := Box{Low: []float64{-1, -inf, 0, -inf}, High: []float64{2, inf, inf, 5}}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		x    []float64
		want bool
	}{
		{[]float64{-1, 0, 0, 5}, true}, // bounds are inclusive
		{[]float64{2.0001, 0, 0, 0}, false},
		{[]float64{0, 1e300, 1e300, -1e300}, true},
		{[]float64{0, 0, -1e-12, 0}, false},
		{[]float64{0, math.NaN(), 0, 0}, false},
		{[]float64{0, 0, 0}, false},
	}
	for _, tc := range cases {
		if got := b.Contains(tc.x); got != tc.want {
			t.Errorf("Contains(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sum := 0.0
	for range 2000 {
		x := b.Sample(rng)
		if !b.Contains(x) {
			t.Fatalf("sample %v outside the box", x)
		}
		sum += x[0]
	}
	if m := sum / 2000; math.Abs(m-0.5) > 0.1 {
		t.Errorf("mean of U(-1, 2) samples = %v, want about 0.5", m)
	}
	if x, y := b.Sample(rand.New(rand.NewPCG(7, 7))), b.Sample(rand.New(rand.NewPCG(7, 7))); x[1] != y[1] {
		t.Error("same seed gave different samples")
	}
	if err := (Box{Low: []float64{1}, High: []float64{0}}).Validate(); err == nil {
		t.Error("Low > High accepted")
	}
	if err := (Box{Low: []float64{1}, High: nil}).Validate(); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestDiscreteContainsAndSample(t *testing.T) {
	d := Discrete{N: 3}
	for a, want := range map[int]bool{-1: false, 0: true, 2: true, 3: false} {
		if d.Contains(a) != want {
			t.Errorf("Contains(%d) = %v, want %v", a, !want, want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var seen [3]int
	for range 3000 {
		a := d.Sample(rng)
		if !d.Contains(a) {
			t.Fatalf("sample %d outside {0,1,2}", a)
		}
		seen[a]++
	}
	for a, n := range seen {
		if n < 850 || n > 1150 {
			t.Errorf("action %d drawn %d times of 3000, want about 1000", a, n)
		}
	}
	if (Discrete{}).Sample(rng) != -1 {
		t.Error("empty space sample should be -1")
	}
}
