package traces

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intelliscale/intelliscale/internal/yamldoc"
)

// sparseCounts writes a count file of 1 s buckets holding 0, 1 or 2 requests (a
// fixed pattern, mean 0.5 a second) for 10 min, and returns its path.
func sparseCounts(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	pattern := []int{0, 1, 0, 0, 2, 0, 1, 0, 1, 0}
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&b, "%d ", pattern[i%len(pattern)])
	}
	p := filepath.Join(t.TempDir(), "sparse.txt")
	if err := os.WriteFile(p, []byte(b.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// flagNotes runs the trace flags args, with file as the command's file argument,
// and returns the trace and the notes they told.
func flagNotes(t *testing.T, groups FlagGroup, file string, args ...string) (*Trace, []string) {
	t.Helper()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := BindFlags(fs, groups)
	var notes []string
	f.Notes = func(n string) { notes = append(notes, n) }
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	tr, err := f.Trace(file)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return tr, notes
}

// Scaling up small whole counts per bucket makes each request a burst of as many
// requests within its bucket: the notes warn of it, with the figures and the way
// out, and the trace is the one made without the warning.
func TestScaleUpOfSparseCountsWarns(t *testing.T) {
	p := sparseCounts(t)
	tr, notes := flagNotes(t, FlagLoad|FlagWindow|FlagScale, p, "--scale-mean", "100")
	want := "--scale-mean 100: warning: multiplies the whole counts of the 1s buckets by 200, and they are few (median 0 per bucket, 1 in the buckets holding any): each request becomes a burst of about 200 requests within one 1s bucket, which no autoscaling policy can follow; resample to a coarser bucket first (--resample 1m, say, or the control interval)"
	if len(notes) != 1 || notes[0] != want {
		t.Fatalf("notes %q, want [%q]", notes, want)
	}
	if quiet, err := (Source{File: p, ScaleMean: 100}).Trace(); err != nil || !equalRates(quiet, tr) {
		t.Fatalf("the warned trace differs from the one made without notes: %v", err)
	}
	// The peak too: the peak bucket holds 2 requests, so the factor is 50.
	_, notes = flagNotes(t, FlagAll, "", "--trace", p, "--scale-peak", "100", "--length", "5m")
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "--scale-peak 100: warning: multiplies the whole counts of the 1s buckets by 50,") {
		t.Fatalf("scale-peak notes %q", notes)
	}
	// A config's scale_mean goes through the same shaping: its note is a FieldError
	// at the field, naming the config's key.
	var got []error
	if _, err := (Source{File: p, ScaleMean: 100}).TraceNotes(func(err error) { got = append(got, err) }); err != nil {
		t.Fatal(err)
	}
	var fe *yamldoc.FieldError
	if len(got) != 1 || !errors.As(got[0], &fe) || fe.Path != "scale_mean" ||
		!strings.HasPrefix(fe.Error(), "scale_mean: 100: warning: multiplies") || !strings.HasSuffix(fe.Error(), "(resample: 1m, say, or the control interval)") {
		t.Fatalf("config notes %v", got)
	}
	// No warning: resampled to 1 min first (medians of 30 requests); a factor of
	// 10 or less; a 1 min bucket suggests the next coarser one.
	for _, tc := range []struct {
		args []string
		want string // "" for none
	}{
		{[]string{"--resample", "1m", "--scale-mean", "100"}, ""},
		{[]string{"--scale-mean", "5"}, ""},
		{[]string{"--scale-mean", "5.1"}, "--scale-mean 5.1: warning: multiplies the whole counts of the 1s buckets by 10.2,"},
		{[]string{"--bucket", "1m", "--scale-mean", "1"}, "(--resample 5m, say)"},
	} {
		_, notes := flagNotes(t, FlagLoad|FlagWindow|FlagScale, p, tc.args...)
		switch {
		case tc.want == "" && len(notes) > 0 && strings.Contains(strings.Join(notes, "\n"), "warning"):
			t.Errorf("%v: warned: %q", tc.args, notes)
		case tc.want != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.want)):
			t.Errorf("%v: notes %q, want %q", tc.args, notes, tc.want)
		}
	}
}

// Rates that are no whole counts, counts that are not few in the buckets holding
// any (an outage's zeros do not count), and synthesized rates are not warned of.
func TestScaleUpWarnsOnlyOfSparseCounts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string { return writeIn(t, dir, name, data) }
	// Rates of 0.5 and 1.5 requests a second: no sample of whole requests.
	rates := write("rates.csv", "seconds,rate\n0,0.5\n1,1.5\n2,0.5\n3,1.5\n")
	// 6 whole requests a bucket, then an outage longer than the traffic.
	var b strings.Builder
	for i := 0; i < 100; i++ {
		if i < 40 {
			b.WriteString("6 ")
		} else {
			b.WriteString("0 ")
		}
	}
	outage := write("outage.txt", b.String()+"\n")
	// A synthetic spec whose rates are whole: 1 request a second, the rate itself.
	spec := write("one.yaml", "duration: 1h\nbucket: 1s\nbase_rate: 1\n")
	for _, tc := range []struct {
		file string
		args []string
	}{
		{rates, []string{"--scale-mean", "500"}},
		{outage, []string{"--scale-mean", "500"}},
		{"", []string{"--synth", spec, "--scale-mean", "500"}},
		{"", []string{"--builtin", "bursty", "--scale-mean", "1000"}},
	} {
		_, notes := flagNotes(t, FlagAll, tc.file, tc.args...)
		if len(notes) > 0 {
			t.Errorf("%s %v: notes %q", tc.file, tc.args, notes)
		}
	}
	// The outage's median is 0, but one bucket with fewer requests than the
	// threshold among those holding any is not their median.
	_, notes := flagNotes(t, FlagLoad|FlagScale, write("few.txt", "1 6 6 0 0 0 0 0\n"), "--scale-mean", "500")
	if len(notes) != 0 {
		t.Errorf("few.txt: notes %q", notes)
	}
	_, notes = flagNotes(t, FlagLoad|FlagScale, write("four.txt", "4 4 6 0 0 0 0 0\n"), "--scale-mean", "500")
	if len(notes) != 1 || !strings.Contains(notes[0], "(median 0 per bucket, 4 in the buckets holding any)") {
		t.Errorf("four.txt: notes %q", notes)
	}
}

// The real traces at the scales of experiments/configs/real.yaml and unseen.yaml
// (and the README's and docs' trace import --scale-mean 80) are not warned of; the
// per-second NASA log scaled up is, and resampled to 1 min first is not.
func TestScaleUpWarningOnRealTraces(t *testing.T) {
	dir := sharedTraces(t)
	type shape struct {
		args []string
		warn bool
	}
	for _, tc := range []struct {
		file   string
		shapes []shape
	}{
		{"nasa-http-1995-per-minute.csv", []shape{
			{[]string{"--length", "72h", "--scale-mean", "150"}, false},
			{[]string{"--skip", "720h", "--length", "72h", "--scale-mean", "150"}, false},
			{[]string{"--skip", "792h", "--length", "72h", "--scale-mean", "80"}, false},
			{[]string{"--skip", "660h", "--length", "72h", "--scale-mean", "80"}, false}, // the outage
			{[]string{"--scale-mean", "1000"}, false},
		}},
		{"nab-nyc-taxi-30min.csv", []shape{
			{[]string{"--skip", "336h", "--length", "72h", "--scale-mean", "150"}, false},
			{[]string{"--skip", "4992h", "--length", "72h", "--scale-mean", "150"}, false},
			{[]string{"--skip", "480h", "--length", "72h", "--scale-mean", "80"}, false},
		}},
		{"nab-twitter-volume-amzn-5min.csv", []shape{
			{[]string{"--skip", "168h", "--length", "72h", "--scale-mean", "150"}, false},
			{[]string{"--skip", "1200h", "--length", "72h", "--scale-mean", "150"}, false},
			{[]string{"--scale-mean", "1000"}, false},
		}},
		{"nasa-http-1995-per-second.tbz2", []shape{
			{[]string{"--skip", "1090h", "--length", "4h", "--scale-mean", "300"}, true},
			{[]string{"--length", "72h", "--scale-mean", "80"}, true},
			{[]string{"--resample", "1m", "--skip", "1090h", "--length", "4h", "--scale-mean", "300"}, false},
			{[]string{"--resample", "1m", "--scale-mean", "80"}, false},
		}},
	} {
		tr, err := LoadFile(filepath.Join(dir, tc.file), LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range tc.shapes {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			f := BindFlags(fs, FlagWindow|FlagScale)
			var notes []string
			f.Notes = func(n string) { notes = append(notes, n) }
			if err := fs.Parse(sh.args); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Shape(tr); err != nil {
				t.Fatalf("%s %v: %v", tc.file, sh.args, err)
			}
			warned := strings.Contains(strings.Join(notes, "\n"), "warning")
			if warned != sh.warn {
				t.Errorf("%s %v: warned %v, want %v: %q", tc.file, sh.args, warned, sh.warn, notes)
			}
		}
	}
}

func equalRates(a, b *Trace) bool {
	if a.Bucket != b.Bucket || len(a.Rates) != len(b.Rates) {
		return false
	}
	for i := range a.Rates {
		if a.Rates[i] != b.Rates[i] {
			return false
		}
	}
	return true
}
