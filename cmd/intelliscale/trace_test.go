package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	if code, _, errs := runTraceCmd("import", "--in", counts, "--bucket", "2s", "--resample", "10s", "--scale-mean", "3", "--out", scaled); code != 0 {
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
		{[]string{"info", "--time-format", "julian", bad}, 1, `--time-format: "julian": want one of [iso8601 unix seconds index]`},
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
