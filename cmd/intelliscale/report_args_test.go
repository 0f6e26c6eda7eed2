package main

import (
	"os"
	"strings"
	"testing"
)

// report takes its flags after the results directory as well as before it
// (report res --quiet is quiet), and refuses a second directory naming both.
func TestReportFlagsAfterDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("e.yaml", []byte(tinyExperiment), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd("experiment", "run", "--quiet", "--config", "e.yaml", "--out", "res", "--no-report"); code != 0 {
		t.Fatalf("experiment run: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := runCmd("report", "res")
	if code != 0 || stdout == "" {
		t.Fatalf("report res: exit %d, stdout %q, stderr %q; want the headline tables", code, stdout, stderr)
	}
	for _, args := range [][]string{{"report", "res", "--quiet"}, {"report", "--quiet", "res"}} {
		code, stdout, stderr := runCmd(args...)
		if code != 0 || stdout != "" || !strings.Contains(stderr, "report: res/report/REPORT.md") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want a quiet report", args, code, stdout, stderr)
		}
	}
	code, _, stderr = runCmd("report", "res", "--quiet", "other")
	if code != 1 || !strings.Contains(stderr, `exactly one results directory is required, got "res" and "other"`) {
		t.Errorf("two directories: exit %d, stderr %q", code, stderr)
	}
}
