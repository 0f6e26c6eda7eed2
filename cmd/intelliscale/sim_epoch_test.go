package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A window of a file without timestamps runs from midnight plus its offset in the
// file, as an experiment's window at that offset does: a policy file on
// `--start 19h` of it sees 19:00, exactly as on the same rates stamped from
// midnight, and the OpenMetrics series carry the same times. It used to see 00:00
// (the crop's start taken for midnight).
func TestSimWindowOfAFileWithoutTimestamps(t *testing.T) {
	dir := t.TempDir()
	pol := exportTiny(t, dir, "p", "")
	var offsets, stamped strings.Builder
	offsets.WriteString("seconds,rate\n")
	stamped.WriteString("timestamp,rate\n")
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for m := range 24 * 60 {
		r := 20 + 15*math.Sin(2*math.Pi*float64(m)/(24*60))
		fmt.Fprintf(&offsets, "%d,%.3f\n", 60*m, r)
		fmt.Fprintf(&stamped, "%s,%.3f\n", day.Add(time.Duration(m)*time.Minute).Format(time.RFC3339), r)
	}
	outputs := func(name, body string) (timeline, om string) {
		t.Helper()
		in := filepath.Join(dir, name+".csv")
		if err := os.WriteFile(in, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		tl, omf := filepath.Join(dir, name+"-tl.csv"), filepath.Join(dir, name+".om")
		if code, _, stderr := runCmd("sim", "--trace", in, "--start", "19h", "--length", "2h", "--policy-file", pol,
			"--timeline", tl, "--openmetrics", omf); code != 0 {
			t.Fatalf("sim %s: exit %d: %s", name, code, stderr)
		}
		a, err := os.ReadFile(tl)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(omf)
		if err != nil {
			t.Fatal(err)
		}
		return string(a), string(b)
	}
	tl1, om1 := outputs("offsets", offsets.String())
	tl2, om2 := outputs("stamped", stamped.String())
	if tl1 != tl2 {
		t.Error("the policy decided otherwise on the window of the file without timestamps than on the stamped one")
	}
	if om1 != om2 {
		i := 0
		for i < min(len(om1), len(om2)) && om1[i] == om2[i] {
			i++
		}
		t.Errorf("OpenMetrics series differ from byte %d: %.80q against %.80q", i, om1[i:], om2[i:])
	}
	// 19:00 on 1 January 2024 is 1704135600 Unix seconds.
	if !strings.Contains(om1, " 1704135615") {
		t.Errorf("the first scrape is not stamped 19:00:15: %.300q", om1)
	}
}
