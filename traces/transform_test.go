package traces

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func noisy(t *testing.T, d, bucket time.Duration) *Trace {
	t.Helper()
	tr, err := Synthesize(SynthSpec{Duration: d, Bucket: bucket, BaseRate: 40, Diurnal: Diurnal{Amplitude: 0.5}, Noise: Noise{Sigma: 0.5}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestResampleConservesRequests(t *testing.T) {
	tr := noisy(t, 7*time.Hour, 7*time.Second)
	for _, b := range []time.Duration{time.Second, 3 * time.Second, 7 * time.Second, 60 * time.Second, 11 * time.Second, 3*time.Hour + time.Second} {
		re, err := Resample(tr, b)
		if err != nil {
			t.Fatal(err)
		}
		// The requests of the whole new buckets are kept; the end of the trace that
		// fills none (7h is no multiple of 11s) is dropped.
		end := tr.Duration() / b * b
		want := 0.0
		for i, r := range tr.Rates {
			lo := time.Duration(i) * tr.Bucket
			want += r * max(0, min(lo+tr.Bucket, end)-lo).Seconds()
		}
		if !approxEq(re.Total(), want, 1e-9) {
			t.Errorf("bucket %v: %v requests, want %v", b, re.Total(), want)
		}
		if n := int(tr.Duration() / b); len(re.Rates) != n {
			t.Errorf("bucket %v: %d buckets, want %d", b, len(re.Rates), n)
		}
	}
	if _, err := Resample(tr, 25*time.Hour); err == nil || !strings.Contains(err.Error(), "7h0m0s long, shorter than one bucket") {
		t.Errorf("resample 7h to 25h: %v, want an error: no whole bucket", err)
	}
	// 3 buckets of 5 min to 10 min: the last 5 min fill half a bucket and are
	// dropped, not diluted into a bucket of rate 4.5 that the trace does not cover.
	re, err := Resample(&Trace{Name: "p", Bucket: 5 * time.Minute, Rates: []float64{1, 2, 9}, Arrivals: []time.Duration{time.Minute, 9 * time.Minute, 11 * time.Minute}}, 10*time.Minute)
	if err != nil || len(re.Rates) != 1 || re.Rates[0] != 1.5 || len(re.Arrivals) != 2 {
		t.Errorf("5m to 10m: %+v, %v; want one bucket of 1.5 and the 2 arrivals in it", re, err)
	}
	// Hand-computed: 3 buckets of 2 s at rates 1, 2, 3 -> 3 s buckets.
	re, _ = Resample(&Trace{Name: "h", Bucket: 2 * time.Second, Rates: []float64{1, 2, 3}}, 3*time.Second)
	want := []float64{(2*1 + 1*2) / 3.0, (1*2 + 2*3) / 3.0}
	if len(re.Rates) != 2 || !approxEq(re.Rates[0], want[0], 1e-15) || !approxEq(re.Rates[1], want[1], 1e-15) {
		t.Errorf("hand case: %v, want %v", re.Rates, want)
	}
	if _, err := Resample(tr, 0); err == nil {
		t.Error("zero bucket accepted")
	}
}

func TestScale(t *testing.T) {
	tr := noisy(t, 6*time.Hour, time.Minute)
	tr.Arrivals = []time.Duration{time.Second}
	m, err := ScaleMean(tr, 123.4)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := Info(m)
	if !approxEq(st.Mean, 123.4, 1e-12) || m.Arrivals != nil {
		t.Errorf("ScaleMean: mean %v arrivals %v", st.Mean, m.Arrivals)
	}
	p, _ := ScalePeak(tr, 200)
	st2, _ := Info(p)
	if st2.Peak != 200 {
		t.Errorf("ScalePeak: peak %v", st2.Peak)
	}
	// Shape kept: the ratio of any two buckets is unchanged.
	if !approxEq(p.Rates[10]/p.Rates[20], tr.Rates[10]/tr.Rates[20], 1e-12) {
		t.Error("ScalePeak changed the shape")
	}
	if tr.Arrivals == nil || tr.Rates[0] == m.Rates[0] {
		t.Error("scaling modified its input")
	}
	zero := &Trace{Name: "z", Bucket: time.Second, Rates: []float64{0, 0}}
	if _, err := ScaleMean(zero, 5); err == nil || !strings.Contains(err.Error(), "all zeros") {
		t.Errorf("scaling zeros: %v", err)
	}
	if _, err := ScalePeak(tr, math.NaN()); err == nil {
		t.Error("NaN peak accepted")
	}
}

func TestSliceSplitWindow(t *testing.T) {
	tr := noisy(t, 10*time.Hour, time.Minute)
	tr.Start = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tr.Arrivals = []time.Duration{30 * time.Second, 2 * time.Hour, 2*time.Hour + time.Second, 9 * time.Hour}
	s, err := Slice(tr, 2*time.Hour, 3*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rates) != 60 || s.Rates[0] != tr.Rates[120] || !s.Start.Equal(tr.Start.Add(2*time.Hour)) || !slices.Equal(s.Arrivals, []time.Duration{0, time.Second}) {
		t.Errorf("slice: %d buckets, start %v, arrivals %v", len(s.Rates), s.Start, s.Arrivals)
	}
	s.Rates[0] = -1
	if tr.Rates[120] == -1 {
		t.Error("slice aliases its input")
	}
	w, _ := Window(tr, time.Hour, 30*time.Minute)
	if len(w.Rates) != 30 || w.Rates[0] != tr.Rates[60] {
		t.Errorf("window: %d buckets", len(w.Rates))
	}
	for _, bad := range [][2]time.Duration{{-time.Minute, time.Hour}, {time.Hour, time.Hour}, {0, 11 * time.Hour}, {30 * time.Second, time.Hour}} {
		if _, err := Slice(tr, bad[0], bad[1]); err == nil {
			t.Errorf("slice %v accepted", bad)
		}
	}

	train, val, test, err := Split(tr, [3]float64{0.7, 0.15, 0.15})
	if err != nil {
		t.Fatal(err)
	}
	if len(train.Rates) != 420 || len(val.Rates) != 90 || len(test.Rates) != 90 {
		t.Errorf("split lengths %d %d %d, want 420 90 90", len(train.Rates), len(val.Rates), len(test.Rates))
	}
	joined := slices.Concat(train.Rates, val.Rates, test.Rates)
	if !slices.Equal(joined, tr.Rates) {
		t.Error("the parts do not join back into the trace")
	}
	if train.Name != tr.Name+"-train" || val.Name != tr.Name+"-val" || test.Name != tr.Name+"-test" {
		t.Errorf("names %q %q %q", train.Name, val.Name, test.Name)
	}
	if !test.Start.Equal(tr.Start.Add(510 * time.Minute)) {
		t.Errorf("test start %v", test.Start)
	}
	for _, f := range [][3]float64{{0.5, 0.5, 0.5}, {1, 0, 0}, {-0.1, 0.6, 0.5}, {0.999, 0.0005, 0.0005}} {
		if _, _, _, err := Split(tr, f); err == nil {
			t.Errorf("split %v accepted", f)
		}
	}
}

func TestInfo(t *testing.T) {
	tr := &Trace{Name: "i", Bucket: 2 * time.Second, Rates: []float64{4, 0, 1, 3, 2, 10, 5, 6, 7, 8, 9, 0, 11, 12, 13, 14, 15, 16, 17, 18}}
	st, err := Info(tr)
	if err != nil {
		t.Fatal(err)
	}
	// 20 values: 0,0,1..18 -> sum 171; nearest rank p50 = 10th = 8, p95 = 19th = 17.
	if st.Buckets != 20 || st.Duration != 40*time.Second || st.Mean != 171.0/20 || st.Total != 342 || st.Peak != 18 || st.Min != 0 || st.P50 != 8 || st.P95 != 17 || st.Zero != 2 {
		t.Errorf("stats %+v", st)
	}
	// Two single zero buckets: the first run wins the tie (bucket 1, 2 s in).
	if st.LongestZero != 2*time.Second || st.LongestZeroAt != 2*time.Second {
		t.Errorf("longest zero run %v at %v, want 2s at 2s", st.LongestZero, st.LongestZeroAt)
	}
	for _, c := range []struct {
		rates   []float64
		run, at time.Duration
	}{
		{[]float64{1, 0, 0, 2, 0, 0, 0}, 6 * time.Second, 8 * time.Second}, // the run at the end
		{[]float64{0, 0, 0, 2, 0, 0, 1}, 6 * time.Second, 0},               // the run at the start
		{[]float64{1, 2}, 0, 0},
	} {
		st, err := Info(&Trace{Name: "z", Bucket: 2 * time.Second, Rates: c.rates})
		if err != nil || st.LongestZero != c.run || st.LongestZeroAt != c.at {
			t.Errorf("%v: longest zero run %v at %v (%v), want %v at %v", c.rates, st.LongestZero, st.LongestZeroAt, err, c.run, c.at)
		}
	}
	if _, err := Info(&Trace{Name: "bad", Bucket: time.Second}); err == nil {
		t.Error("empty trace accepted")
	}
}
