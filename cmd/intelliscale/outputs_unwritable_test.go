package main

import (
	"os"
	"strings"
	"testing"
)

// An output whose directory takes no new files is refused before any work, naming
// the flag, the path and the directory, not after the simulation when the result
// is written.
func TestOutputInUnwritableDirectory(t *testing.T) {
	if fi, err := os.Stat("/proc"); err != nil || !fi.IsDir() {
		t.Skip("no /proc")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--builtin", "step", "--timeline", "/proc/x.csv"}, "--timeline /proc/x.csv: cannot write in /proc: "},
		{[]string{"sim", "--builtin", "step", "--timeline", "", "--openmetrics", "/proc/x.om"}, "--openmetrics /proc/x.om: cannot write in /proc: "},
		{[]string{"trace", "synth", "--builtin", "step", "--out", "/proc/x.csv"}, "--out /proc/x.csv: cannot write in /proc: "},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1, nothing on stdout (no work done) and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}
