package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// --trace-seed 0, and its alias --seed 0 of trace synth, would run the default seed
// 1: refused naming the flag; no flag is seed 1, as before.
func TestTraceSeedZeroIsRefused(t *testing.T) {
	want := "--trace-seed: 0 stands for the default seed 1; give a seed of at least 1"
	for _, args := range [][]string{
		{"trace", "synth", "--builtin", "step", "--trace-seed", "0"},
		{"trace", "synth", "--builtin", "step", "--seed", "0"},
		{"sim", "--builtin", "step", "--trace-seed", "0", "--timeline", ""},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 1 || !strings.Contains(errb.String(), want) || out.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, want exit 1 and %q", args, code, errb.String(), want)
		}
	}
	_, def, _ := runTraceCmd("synth", "--builtin", "step")
	_, one, _ := runTraceCmd("synth", "--builtin", "step", "--trace-seed", "1")
	if def == "" || def != one {
		t.Error("trace synth without --trace-seed is not seed 1")
	}
}

// Scaling up a count file of a few requests a second warns, on standard error,
// that each request becomes a burst, and writes the same trace as before.
func TestScalingUpSparseCountsWarns(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "%d\n", []int{0, 1, 0, 2}[i%4])
	}
	p := writeTemp(t, dir, "sparse.txt", b.String())
	warning := "--scale-mean 60: warning: multiplies the whole counts of the 1s buckets by 80, and they are few (median 0 per bucket, 1 in the buckets holding any): each request becomes a burst of about 80 requests within one 1s bucket, which no autoscaling policy can follow; resample to a coarser bucket first (--resample 1m, say, or the control interval)\n"
	code, out, errs := runTraceCmd("import", p, "--scale-mean", "60")
	if code != 0 || errs != "trace import: "+warning {
		t.Fatalf("import: exit %d, stderr %q, want %q", code, errs, "trace import: "+warning)
	}
	if !strings.HasPrefix(out, "seconds,rate\n0,0\n1,80\n2,0\n3,160\n") {
		t.Fatalf("import wrote %.60q", out)
	}
	var sout, serr bytes.Buffer
	if code := run([]string{"sim", "--trace", p, "--scale-mean", "60", "--timeline", ""}, &sout, &serr); code != 0 || !strings.Contains(serr.String(), "sim: "+warning) {
		t.Fatalf("sim: exit %d, stderr %q, want %q", code, serr.String(), "sim: "+warning)
	}
	// Resampled to 1 min first, the counts are not few: no warning.
	if code, _, errs := runTraceCmd("import", p, "--resample", "1m", "--scale-mean", "60"); code != 0 || errs != "" {
		t.Fatalf("resampled: exit %d, stderr %q", code, errs)
	}
}
