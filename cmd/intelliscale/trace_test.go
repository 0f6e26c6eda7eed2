package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intelliscale/intelliscale/traces"
)

func runTraceCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(append([]string{"trace"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestTraceSynthImportInfo(t *testing.T) {
	dir := t.TempDir()
	synth := filepath.Join(dir, "step.csv")
	if code, _, errs := runTraceCmd("synth", "--default", "step", "--seed", "7", "--out", synth); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, errs)
	}
	got, err := traces.LoadFile(synth, traces.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := traces.DefaultSpec("step")
	want, _ := traces.Synthesize(spec, 7)
	if len(got.Rates) != len(want.Rates) || got.Bucket != want.Bucket {
		t.Fatalf("synth wrote %d buckets of %v, want %d of %v", len(got.Rates), got.Bucket, len(want.Rates), want.Bucket)
	}
	for i := range want.Rates {
		if got.Rates[i] != want.Rates[i] {
			t.Fatalf("bucket %d: %v, want %v", i, got.Rates[i], want.Rates[i])
		}
	}

	specFile := filepath.Join(dir, "s.yaml")
	os.WriteFile(specFile, []byte("name: flat\nduration: 1h\nbase_rate: 5\n"), 0o644)
	code, out, errs := runTraceCmd("synth", "--spec", specFile)
	if code != 0 || !strings.HasPrefix(out, "seconds,rate\n0,5\n60,5\n") || strings.Count(out, "\n") != 61 {
		t.Fatalf("synth --spec to stdout: exit %d, %q, %s", code, out[:min(len(out), 80)], errs)
	}

	// Import a count file at 2 s buckets, resample to 10 s, rescale the mean.
	counts := filepath.Join(dir, "w.txt")
	os.WriteFile(counts, []byte("2 4 6 8 10 0 0 0 0 0"), 0o644)
	scaled := filepath.Join(dir, "scaled.csv")
	code, out, errs = runTraceCmd("import", "--in", counts, "--bucket", "2s", "--resample", "10s", "--scale-mean", "3", "--out", scaled)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	imp, err := traces.LoadFile(scaled, traces.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 30 requests in the first 10 s, none in the next: rates 3, 0 -> mean 1.5 -> ×2.
	if len(imp.Rates) != 2 || imp.Rates[0] != 6 || imp.Rates[1] != 0 {
		t.Fatalf("imported rates %v, want [6 0]", imp.Rates)
	}
	// It says what it wrote where, on standard error; with --out - the data alone
	// goes to standard output and standard error stays empty.
	if want := "trace import: wrote " + scaled + ": 2 buckets of 10s, mean 3 req/s\n"; out != "" || errs != want {
		t.Errorf("import --out FILE: stdout %q, stderr %q; want nothing and %q", out, errs, want)
	}
	code, out, errs = runTraceCmd("import", "--in", counts, "--bucket", "2s", "--resample", "10s", "--scale-mean", "3", "--out", "-")
	if b, _ := os.ReadFile(scaled); code != 0 || out != string(b) || errs != "" {
		t.Errorf("import --out -: exit %d, stdout %q (want the file's %q), stderr %q (want nothing)", code, out, b, errs)
	}

	code, out, errs = runTraceCmd("info", counts)
	if code != 0 || !strings.Contains(out, "requests      30\n") || !strings.Contains(out, "buckets       10 × 1s") || !strings.Contains(out, "peak          10 req/s") {
		t.Fatalf("info: exit %d\n%s%s", code, out, errs)
	}
}

func TestTraceErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("minute_index,requests\n0,1\n1,-3\n"), 0o644)
	out := filepath.Join(dir, "out.csv")
	os.WriteFile(out, []byte("precious"), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 1, "subcommands:"},
		{[]string{"frobnicate"}, 1, `unknown subcommand "frobnicate"`},
		{[]string{"synth"}, 1, "no trace: give --trace FILE, --builtin NAME or --synth SPEC.yaml"},
		{[]string{"synth", "--default", "nope"}, 1, `no built-in trace "nope"`},
		{[]string{"synth", "--default", "step", "--seed", "x"}, 1, `invalid value "x" for flag -seed`},
		{[]string{"synth", "--default", "step", "extra"}, 1, `unexpected argument "extra"`},
		{[]string{"import"}, 1, "--in FILE is required"},
		{[]string{"import", "--in", bad, "--out", out}, 1, `bad.csv line 3: count "-3": must be finite and >= 0`},
		{[]string{"import", "--in", bad, "--scale-mean", "1", "--scale-peak", "2"}, 1, "exclusive"},
		{[]string{"info"}, 1, "want one FILE"},
		{[]string{"info", "--time-format", "julian", bad}, 1, `--time-format: "julian": want one of [iso8601 unix unix_ms seconds index]`},
		{[]string{"synth", "--help"}, 0, `-seed uint`},
	}
	for _, tc := range tests {
		code, _, errs := runTraceCmd(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("trace %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Errorf("a failed import overwrote its output: %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".out.csv.tmp*")); len(m) != 0 {
		t.Errorf("temporary files left behind: %v", m)
	}
}

// writeRateCSV writes rates (req/s, one a minute) as a seconds,rate CSV in dir.
func writeRateCSV(t *testing.T, dir, name string, rates []float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("seconds,rate\n")
	for i, r := range rates {
		fmt.Fprintf(&b, "%d,%v\n", 60*i, r)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// --skip and --length keep a window of whole buckets (rounded outwards, --length cut
// at the end of the trace) holding exactly the requests of that window of the input;
// --scale-mean then rescales the kept window, not the whole trace.
func TestTraceImportWindow(t *testing.T) {
	dir := t.TempDir()
	in := make([]float64, 20) // 20 minutes
	for i := range in {
		in[i] = float64(1 + (3*i*i)%17)
	}
	src := writeRateCSV(t, dir, "w.csv", in)
	sum := func(rs []float64) float64 {
		s := 0.0
		for _, r := range rs {
			s += r
		}
		return s
	}
	tests := []struct {
		args    []string
		from, n int           // the kept input minutes, [from, from+n)
		bucket  time.Duration // of the output
		mean    float64       // with --scale-mean, else 0
	}{
		{nil, 0, 20, time.Minute, 0},
		{[]string{"--skip", "5m"}, 5, 15, time.Minute, 0},
		{[]string{"--length", "10m"}, 0, 10, time.Minute, 0},
		{[]string{"--length", "1m"}, 0, 1, time.Minute, 0},
		{[]string{"--skip", "5m", "--length", "10m"}, 5, 10, time.Minute, 0},
		{[]string{"--skip", "5m30s", "--length", "2m"}, 5, 3, time.Minute, 0}, // [5m30s, 7m30s) rounded outwards
		{[]string{"--skip", "15m", "--length", "1h"}, 15, 5, time.Minute, 0},  // at most: cut at the end
		{[]string{"--skip", "19m", "--length", "72h"}, 19, 1, time.Minute, 0},
		{[]string{"--resample", "2m", "--skip", "4m", "--length", "4m"}, 4, 4, 2 * time.Minute, 0}, // resampled, then cropped
		{[]string{"--skip", "5m", "--length", "10m", "--scale-mean", "10"}, 5, 10, time.Minute, 10},
		{[]string{"--skip", "12m", "--scale-mean", "3"}, 12, 8, time.Minute, 3},
	}
	for _, tc := range tests {
		out := filepath.Join(dir, "out.csv")
		os.Remove(out)
		args := append([]string{"import", "--in", src, "--out", out}, tc.args...)
		if code, _, errs := runTraceCmd(args...); code != 0 {
			t.Errorf("%v: exit %d: %s", tc.args, code, errs)
			continue
		}
		got, err := traces.LoadFile(out, traces.LoadOptions{CSV: traces.CSVOptions{Bucket: tc.bucket}}) // one row needs it
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		kept := in[tc.from : tc.from+tc.n]
		perBucket := int(tc.bucket / time.Minute)
		if got.Bucket != tc.bucket || len(got.Rates) != tc.n/perBucket {
			t.Errorf("%v: %d buckets of %v, want %d of %v", tc.args, len(got.Rates), got.Bucket, tc.n/perBucket, tc.bucket)
			continue
		}
		if tc.mean == 0 {
			// Conservation: the requests kept are those of the input's window.
			if want := 60 * sum(kept); math.Abs(got.Total()-want) > 1e-9*want {
				t.Errorf("%v: %v requests, want %v (input minutes %d to %d)", tc.args, got.Total(), want, tc.from, tc.from+tc.n)
			}
			continue
		}
		// The rescale is the window's: its mean is the target and each rate keeps its
		// share of the window, which the whole trace's rescale would not give.
		if wholeMean := sum(in) / float64(len(in)); sum(kept)/float64(len(kept)) == wholeMean {
			t.Fatalf("%v: the window's mean is the whole trace's: the case cannot tell the orders apart", tc.args)
		}
		if m := sum(got.Rates) / float64(len(got.Rates)); math.Abs(m-tc.mean) > 1e-9 {
			t.Errorf("%v: mean %v, want %v", tc.args, m, tc.mean)
		}
		for i, r := range got.Rates {
			if want := kept[i] * tc.mean * float64(len(kept)) / sum(kept); math.Abs(r-want) > 1e-9 {
				t.Errorf("%v: bucket %d: %v, want %v", tc.args, i, r, want)
			}
		}
	}
}

// A crop that cannot be kept is refused naming its flag (and, once the trace is read,
// the trace's duration), and writes nothing.
func TestTraceImportWindowErrors(t *testing.T) {
	dir := t.TempDir()
	src := writeRateCSV(t, dir, "w.csv", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	out := filepath.Join(dir, "out.csv")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--skip", "-1m"}, "--skip: -1m: must be at least 0s"},
		{[]string{"--length", "-1m"}, "--length: -1m: must be at least 0s"},
		{[]string{"--skip", "20m"}, `--skip: 20m: not inside the trace "w" (20m long)`},
		{[]string{"--skip", "1h", "--length", "1m", "--scale-mean", "5"}, `--skip: 1h: not inside the trace "w" (20m long)`},
		{[]string{"--length", "30s"}, `--length: 30s: shorter than one bucket (1m) of the trace "w" (20m long)`},
		{[]string{"--resample", "5m", "--length", "4m"}, `--length: 4m: shorter than one bucket (5m) of the trace "w" (20m long)`},
		{[]string{"--start", "5m"}, "to crop --in FILE, give --skip D and --length D"}, // --start is the metrics window's
	}
	for _, tc := range tests {
		args := append([]string{"import", "--in", src, "--out", out}, tc.args...)
		code, _, errs := runTraceCmd(args...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, errs, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: a refused import wrote %s", tc.args, out)
		}
	}
}

// trace info estimates the simulated requests of replaying the whole trace (the
// integral of its rate) and says whether sim runs it at its limit; sim agrees.
func TestTraceInfoSimEstimate(t *testing.T) {
	dir := t.TempDir()
	rates := make([]float64, 30) // 30 minutes
	for i := range rates {
		rates[i] = float64(3 + i%5)
	}
	src := writeRateCSV(t, dir, "est.csv", rates)
	requests := 0.0
	for _, r := range rates {
		requests += 60 * r
	}
	defer func(old float64) { maxSimRequests = old }(maxSimRequests)
	tests := []struct {
		limit float64
		runs  bool
	}{
		{2e8, true},          // the default
		{requests + 1, true}, // just within
		{requests, true},     // at the limit: sim refuses only beyond it
		{requests - 1, false},
		{requests / 10, false},
	}
	for _, tc := range tests {
		maxSimRequests = tc.limit
		code, out, errs := runTraceCmd("info", src)
		if code != 0 {
			t.Fatalf("info: exit %d: %s", code, errs)
		}
		var work, verdict string
		for _, line := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(line, "sim work"); ok {
				work = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(line, "sim "); ok {
				verdict = strings.TrimSpace(v)
			}
		}
		var got float64
		if _, err := fmt.Sscanf(work, "about %g simulated requests", &got); err != nil || math.Abs(got-requests) > 0.005*requests {
			t.Fatalf("limit %g: sim work line %q: %v requests (%v), want %.3g", tc.limit, work, got, err, requests)
		}
		if want := fmt.Sprintf("over %v of trace", 30*time.Minute); !strings.Contains(work, want) {
			t.Errorf("limit %g: sim work line %q, want %q", tc.limit, work, want)
		}
		if runs := strings.HasPrefix(verdict, "runs it"); runs != tc.runs || !strings.Contains(verdict, fmt.Sprintf("limit of %.3g", tc.limit)) {
			t.Errorf("limit %g: sim line %q: want runs=%v and the limit", tc.limit, verdict, tc.runs)
		}
		if !tc.runs && !strings.Contains(verdict, "--length") {
			t.Errorf("limit %g: sim line %q names no way out", tc.limit, verdict)
		}
		// sim itself, on the same trace at the same limit.
		if code, _, errs := runCmd("sim", "--trace", src, "--timeline", ""); (code == 0) != tc.runs {
			t.Errorf("limit %g: info says runs=%v, sim exits %d: %s", tc.limit, tc.runs, code, errs)
		}
	}
}

// TestTraceInfoZeroRuns: trace info gives the longest run of zero buckets, and
// asks whether a run of half an hour or more is missing data or an outage (a file
// loader fills a gap between rows with zeros).
func TestTraceInfoZeroRuns(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		zeros []int // minutes with rate 0, of 60
		want  string
	}{
		{"none", nil, "zero buckets  0\n"},
		{"single", []int{7, 9}, "zero buckets  2\n"},
		{"short run", []int{3, 10, 11, 12}, "zero buckets  4 (longest run 3m0s, from 10m0s in)\n"},
		{"gap", func() []int {
			var z []int
			for i := 20; i < 50; i++ {
				z = append(z, i)
			}
			return z
		}(), "zero buckets  30 (longest run 30m0s, from 20m0s in: missing data or an outage?)\n"},
	} {
		rates := make([]float64, 60)
		for i := range rates {
			rates[i] = 2
		}
		for _, i := range tc.zeros {
			rates[i] = 0
		}
		in := writeRateCSV(t, dir, tc.name+".csv", rates)
		code, out, errs := runTraceCmd("info", in)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d (%s), output\n%s\nwant %q", tc.name, code, errs, out, tc.want)
		}
		// import warns of the same runs, from half an hour on, on standard error; the
		// input may be the argument, with flags after it.
		dst := filepath.Join(dir, tc.name+"-out.csv")
		code, _, errs = runTraceCmd("import", in, "--out", dst)
		warned := strings.Contains(errs, "warning: "+tc.name+" has no request for 30m0s from 20m0s in (30 zero buckets in all): missing data or an outage?")
		if code != 0 || warned != (tc.name == "gap") {
			t.Errorf("%s: import exit %d, stderr %q", tc.name, code, errs)
		}
		if got, err := traces.LoadFile(dst, traces.LoadOptions{}); err != nil || len(got.Rates) != 60 {
			t.Errorf("%s: import wrote %v, %v", tc.name, got, err)
		}
	}
	if code, _, errs := runTraceCmd("import", "a.csv", "b.csv"); code == 0 || !strings.Contains(errs, `unexpected argument "b.csv"`) {
		t.Errorf("two inputs: exit %d, %s", code, errs)
	}
}

// TestTraceImportCompressed: a gzipped export imports as the file inside it does,
// and a truncated one fails naming the file, leaving --out as it was.
func TestTraceImportCompressed(t *testing.T) {
	dir := t.TempDir()
	csv := []byte("timestamp,requests\n2015-02-26T21:40:00+01:00,60\n2015-02-26T21:41:00+01:00,120\n")
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(csv)
	w.Close()
	in := filepath.Join(dir, "export.csv.gz")
	os.WriteFile(in, z.Bytes(), 0o644)
	out := filepath.Join(dir, "out.csv")
	if code, _, errs := runTraceCmd("import", "--in", in, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(out); string(b) != "timestamp,rate\n2015-02-26T21:40:00+01:00,1\n2015-02-26T21:41:00+01:00,2\n" {
		t.Fatalf("imported:\n%s", b)
	}
	os.WriteFile(out, []byte("precious"), 0o644)
	truncated := filepath.Join(dir, "cut.csv.gz")
	os.WriteFile(truncated, z.Bytes()[:z.Len()/2], 0o644)
	code, _, errs := runTraceCmd("import", "--in", truncated, "--out", out)
	if code == 0 || !strings.Contains(errs, "cut.csv.gz: gzip data: unexpected EOF") {
		t.Errorf("truncated: exit %d, stderr %q", code, errs)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Errorf("a failed import overwrote its output: %q", b)
	}
}
