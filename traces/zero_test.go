package traces

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// --trace-seed 0 would run the default seed 1, so that seeds 0 and 1 were one trace:
// it is refused naming the flag, and the default (no flag) keeps today's trace.
func TestTraceSeedZeroRefused(t *testing.T) {
	for _, args := range [][]string{
		{"--builtin", "bursty", "--trace-seed", "0"},
		{"--synth", "spec.yaml", "--trace-seed", "0"}, // refused before the spec is read
		{"--trace", "x.csv", "--trace-seed", "0"},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f := BindFlags(fs, FlagAll)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		_, err := f.Trace("")
		if want := "--trace-seed: 0 stands for the default seed 1; give a seed of at least 1"; err == nil || err.Error() != want {
			t.Errorf("%v: got %v, want %q", args, err, want)
		}
	}
	want, err := Source{Builtin: "bursty", Seed: DefaultSeed}.Trace()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--builtin", "bursty"}, {"--builtin", "bursty", "--trace-seed", "1"}} {
		tr, _ := flagNotes(t, FlagAll, "", args...)
		if !slices.Equal(tr.Rates, want.Rates) {
			t.Errorf("%v: not the trace of seed 1", args)
		}
	}
}

// inlineSource holds a Source inline, as an experiment's traces[i] does.
type inlineSource struct {
	Name   string `yaml:"name"`
	Source `yaml:",inline"`
}

func (s *inlineSource) Validate() error { return s.Source.Validate() }

// A 0 written in YAML for a field whose 0 stands for a default other than 0 is
// refused with its line; zeros that mean 0 are still read as written.
func TestYAMLZeroThatMeansADefaultRefused(t *testing.T) {
	const unset = ": 0 stands for unset here, which takes the default"
	load := func(doc string, out yamldoc.Validator) error {
		_, err := yamldoc.Load([]byte(doc), "c.yaml", out)
		return err
	}
	for _, tc := range []struct {
		doc  string
		out  func() yamldoc.Validator
		want string
	}{
		{"builtin: bursty\nseed: 0\n", func() yamldoc.Validator { return new(Source) }, "c.yaml line 2: seed: 0" + unset},
		{"name: a\nbuiltin: bursty\nseed: 0\n", func() yamldoc.Validator { return new(inlineSource) }, "c.yaml line 3: seed: 0" + unset},
		{"traces:\n  - builtin: bursty\n    seed: 0\n", func() yamldoc.Validator { return new(Traffic) }, "c.yaml line 3: traces[0].seed: 0" + unset},
		{"random: {count: 2, seed: 0}\n", func() yamldoc.Validator { return new(Traffic) }, "c.yaml line 1: random.seed: 0" + unset},
		{"random: {count: 2, duration: 0s}\n", func() yamldoc.Validator { return new(Traffic) }, "c.yaml line 1: random.duration: 0s" + unset},
		{"file: x.txt\nload: {counts_bucket: 0s}\n", func() yamldoc.Validator { return new(Source) }, "c.yaml line 2: load.counts_bucket: 0s" + unset},
		{"file: x.txt\nload:\n  max_bytes: 0\n", func() yamldoc.Validator { return new(Source) }, "c.yaml line 3: load.max_bytes: 0" + unset},
		{"synth:\n  duration: 0h\n", func() yamldoc.Validator { return new(Source) }, "c.yaml line 2: synth.duration: 0h" + unset},
	} {
		if err := load(tc.doc, tc.out()); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.doc, err, tc.want)
		}
	}
	for _, tc := range []struct{ doc, want string }{
		{"duration: 0s\n", "spec.yaml line 1: duration: 0s"},
		{"bucket: 0s\n", "spec.yaml line 1: bucket: 0s"},
		{"base_rate: 0\n", "spec.yaml line 1: base_rate: 0"},
		{"diurnal: {amplitude: 0.5, peak_hour: 0}\n", "spec.yaml line 1: diurnal.peak_hour: 0"},
		{"bursts:\n  per_day: 4\n  magnitude: 0\n", "spec.yaml line 3: bursts.magnitude: 0"},
		{"bursts: {per_day: 4, duration: 0m}\n", "spec.yaml line 1: bursts.duration: 0m"},
		{"flash_crowds: [{at: 1h, peak: 3, decay: 0s}]\n", "spec.yaml line 1: flash_crowds[0].decay: 0s"},
		{"on_off: {on_factor: 0, mean_on: 1h, mean_off: 1h}\n", "spec.yaml line 1: on_off.on_factor: 0"},
	} {
		_, err := DecodeSynthSpec(strings.NewReader(tc.doc), "spec.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want+unset) {
			t.Errorf("%q: got %v, want %q", tc.doc, err, tc.want+unset)
		}
	}
	// Zeros that mean 0 (no cycle, no noise, silence while off, a jump, ...) read.
	meant := "diurnal: {amplitude: 0}\nweekend_dip: 0\ntrend_per_day: 0\nnoise: {sigma: 0}\n" +
		"bursts: {per_day: 0}\nflash_crowds: [{at: 0s, peak: 2, rise: 0s}]\nsteps: [{at: 0s, factor: 0}]\n" +
		"on_off: {off_factor: 0, mean_on: 0s, mean_off: 0s}\n"
	if _, err := DecodeSynthSpec(strings.NewReader(meant), "spec.yaml"); err != nil {
		t.Errorf("zeros that mean 0: %v", err)
	}
	if err := load("file: x.txt\nload: {max_malformed: 0, bucket: 0s}\nstart: 0s\nscale_mean: 0\n", new(Source)); err != nil {
		t.Errorf("source zeros that mean 0: %v", err)
	}
}

// --max-bytes 0 is refused: LoadOptions takes a zero for unset, so it read up to
// 1 GiB where the flag said nothing at all. -1 (no limit) and a size load the file.
func TestMaxBytesFlagZeroRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(path, []byte("time,requests\n0,1\n60,2\n120,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		max, want string
	}{
		{"0", "--max-bytes: 0 would refuse every file"},
		{"-1", ""},
		{"1000", ""},
		{"10", "larger than the 10 B limit"},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f := BindFlags(fs, FlagAll)
		if err := fs.Parse([]string{"--max-bytes", c.max}); err != nil {
			t.Fatal(err)
		}
		_, err := f.Trace(path)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("--max-bytes %s: %v", c.max, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("--max-bytes %s: got %v, want %q", c.max, err, c.want)
		}
	}
}
