package traces

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

func TestSourceYAMLErrorsNameLineAndField(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"builtin: bursty\nfile: x.csv\n", "s.yaml line 1: exactly one of builtin, file and synth must be set (found 2)"},
		{"{}\n", "exactly one of builtin, file and synth must be set (found 0)"},
		{"builtin: nope\n", `s.yaml line 1: builtin: no built-in trace "nope"`},
		{"builtin: bursty\nload: {format: csv}\n", "s.yaml line 2: load: only valid with file"},
		{"file: x.csv\nload:\n  format: xml\n", `s.yaml line 3: load.format: "xml": want one of [csv counts accesslog promjson]`},
		{"file: x.csv\nload:\n  fromat: csv\n", `s.yaml line 3: load.fromat: unknown key "fromat"`},
		{"builtin: bursty\nscale_mean: -5\n", "s.yaml line 2: scale_mean: -5: must be at least 0"},
		{"builtin: bursty\nscale_mean: .nan\n", "s.yaml line 2: scale_mean: NaN: must be a finite number"},
		{"builtin: bursty\nscale_peak: 1e300\n", "s.yaml line 2: scale_peak: 1e+300: must be at most 1e+06"},
		{"builtin: bursty\nscale_mean: 5\nscale_peak: 6\n", "s.yaml line 3: scale_peak: scale_mean and scale_peak are exclusive"},
		{"builtin: bursty\nstart: -1h\n", "s.yaml line 2: start: -1h: must be at least 0s"},
		{"builtin: bursty\nlength: -1h\n", "s.yaml line 2: length: -1h: must be at least 0s"},
		{"builtin: bursty\nend: 1h\nlength: 1h\n", "s.yaml line 3: length: end and length are exclusive"},
		{"builtin: bursty\nstart: 2h\nend: 1h\n", "s.yaml line 3: end: 1h: must be after start (2h)"},
		{"builtin: bursty\nresample: 1ns\n", "s.yaml line 2: resample: 1ns: must be at least 1ms"},
		{"synth: {base_rate: -1}\n", "s.yaml line 1: synth.base_rate: -1: must be in [0, 1e+06]"},
		{"synth: {duration: 1h, bogus: 1}\n", `s.yaml line 1: synth.bogus: unknown key "bogus"`},
	} {
		var s Source
		_, err := yamldoc.Load([]byte(tc.src), "s.yaml", &s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestSourceTraceShapes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.txt")
	if err := os.WriteFile(p, []byte("1 2 3 4 5 6 7 8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Counts at 2 s buckets (the CSV bucket applies to count files too), cropped to
	// [4s, 12s), rescaled to mean 10.
	s := Source{File: p, Load: LoadOptions{CSV: CSVOptions{Bucket: 2 * time.Second}}, Start: 4 * time.Second, Length: 8 * time.Second, ScaleMean: 10}
	tr, err := s.Trace()
	if err != nil {
		t.Fatal(err)
	}
	if tr.Name != "c" || tr.Bucket != 2*time.Second || len(tr.Rates) != 4 {
		t.Fatalf("got %s %v %v", tr.Name, tr.Bucket, tr.Rates)
	}
	mean := 0.0
	for _, r := range tr.Rates {
		mean += r / 4
	}
	if math.Abs(mean-10) > 1e-9 || !(tr.Rates[3] > tr.Rates[0]) {
		t.Fatalf("rates %v: mean %v, want 10 and increasing", tr.Rates, mean)
	}
	// Resample (1 s counts to 4 s buckets) then crop to the first one.
	s = Source{File: p, Resample: 4 * time.Second, End: 4 * time.Second}
	if tr, err = s.Trace(); err != nil || len(tr.Rates) != 1 || tr.Rates[0] != 2.5 {
		t.Fatalf("resampled: %v %v", tr, err)
	}
	// A crop outside the trace names the field.
	for _, tc := range []struct {
		s    Source
		want string
	}{
		{Source{File: p, Start: time.Minute}, `start: 1m: not inside the trace "c" (8s long)`},
		{Source{File: p, Start: 2 * time.Second, Length: time.Minute}, `length: 1m: ends at 1m2s, after the end of the trace "c" (8s long)`},
		{Source{File: p, End: 9 * time.Second}, `end: 9s: ends at 9s, after the end`},
	} {
		if _, err := tc.s.Trace(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.s, err, tc.want)
		}
	}
	// Builtin with a seed differs from the default seed; synth gets DefaultSeed.
	a, _ := Source{Builtin: "bursty"}.Trace()
	b, _ := Source{Builtin: "bursty", Seed: 2}.Trace()
	if a == nil || b == nil || a.Rates[10] == b.Rates[10] {
		t.Fatal("seed of a builtin ignored")
	}
}

func TestFlagsNameTheFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--builtin", "bursty", "--scale-mean", "-5"}, "--scale-mean: -5: must be at least 0"},
		{[]string{"--builtin", "bursty", "--scale-mean", "NaN"}, "--scale-mean: NaN: must be a finite number"},
		{[]string{"--builtin", "bursty", "--length", "-1h"}, "--length: -1h: must be at least 0s"},
		{[]string{"--builtin", "bursty", "--trace", "x.csv"}, "give exactly one of --trace FILE, --builtin NAME and --synth SPEC.yaml"},
		{[]string{"--trace", "x.csv", "--format", "xml"}, `--format: "xml": want one of`},
		{[]string{}, "no trace: give --trace FILE, --builtin NAME or --synth SPEC.yaml"},
		{[]string{"--builtin", "bursty", "--start", "1000h"}, `--start: 1000h: not inside the trace "bursty"`},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f := BindFlags(fs, FlagAll)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		_, err := f.Trace("")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := BindFlags(fs, FlagAll)
	if err := fs.Parse([]string{"--builtin", "step", "--start", "1h", "--length", "2h", "--scale-peak", "50"}); err != nil {
		t.Fatal(err)
	}
	tr, err := f.Trace("")
	if err != nil || tr.Duration() != 2*time.Hour {
		t.Fatalf("%v %v", tr, err)
	}
	if st, _ := Info(tr); st.Peak != 50 {
		t.Fatalf("peak %v", st.Peak)
	}
}
