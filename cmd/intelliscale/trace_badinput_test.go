package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trace import and trace info say on standard error what they guessed or dropped:
// the columns of a CSV header, malformed lines skipped, a crop rounded, the end a
// resample dropped; and refuse what they would otherwise read wrongly.
func TestTraceSaysWhatItRead(t *testing.T) {
	dir := t.TempDir()
	b1 := writeTemp(t, dir, "b1.csv", "timestamp,bytes,hits\n2015-02-26 21:42:53,5000,300\n2015-02-26 21:47:53,6000,600\n")
	b3 := writeTemp(t, dir, "b3.csv", "timestamp,cpu,mem\n2015-02-26 21:42:53,50,300\n2015-02-26 21:47:53,60,600\n")
	a1 := writeTemp(t, dir, "a1.csv", "seconds,rate\n0,1\n300,2\n600,9\n")
	var log strings.Builder
	for i := 1; i <= 98; i++ {
		fmt.Fprintf(&log, "garbage line %d\n", i)
	}
	log.WriteString(`h - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1` + "\n")
	log.WriteString(`h - - [01/Jul/1995:00:00:03 -0400] "GET / HTTP/1.0" 200 1` + "\n")
	mixed := writeTemp(t, dir, "mixed.log", log.String())
	g9 := writeTemp(t, dir, "g9", "1 2 3\n")
	g10 := writeTemp(t, dir, "g10", "0 5\n1 7\n2 9\n")
	out := filepath.Join(dir, "out.csv")
	skipped := "mixed.log: skipped 98 malformed lines of 100 (first at line 1: no [timestamp]: not Common or Combined Log Format)\n"
	for _, tc := range []struct {
		args   []string
		code   int
		stderr []string // lines standard error holds
		out    string   // what --out holds after, when set
	}{
		{[]string{"import", b1, "--out", out}, 0, []string{`trace import: b1.csv: time from column "timestamp", counts from column "hits"` + "\n"},
			"timestamp,rate\n2015-02-26T21:42:53Z,1\n2015-02-26T21:47:53Z,2\n"},
		{[]string{"info", b1}, 0, []string{`trace info: b1.csv: time from column "timestamp", counts from column "hits"` + "\n"}, ""},
		{[]string{"import", b3, "--out", out}, 1, []string{`b3.csv line 1: value column: columns "cpu" and "mem" hold numbers, and none is named for requests (like requests, count, value, hits or rate): choose one (--value-column NAME)`}, ""},
		{[]string{"import", b3, "--value-column", "mem", "--out", out}, 0, []string{`trace import: b3.csv: time from column "timestamp", counts from column "mem"` + "\n"},
			"timestamp,rate\n2015-02-26T21:42:53Z,1\n2015-02-26T21:47:53Z,2\n"},
		{[]string{"import", mixed, "--max-malformed", "-1", "--out", out}, 0, []string{"trace import: " + skipped}, "timestamp,rate\n1995-07-01T04:00:01Z,1\n1995-07-01T04:00:02Z,0\n1995-07-01T04:00:03Z,1\n"},
		{[]string{"info", mixed, "--max-malformed", "-1"}, 0, []string{"trace info: " + skipped}, ""},
		{[]string{"import", a1, "--resample", "10m", "--out", out}, 0, []string{"trace import: --resample 10m: dropped the last 5m of the trace (2700 requests), less than a whole bucket\n"}, "seconds,rate\n0,1.5\n"},
		{[]string{"import", a1, "--skip", "7m", "--out", out}, 0, []string{"trace import: --skip 7m rounded down to 5m, whole buckets of 5m\n"}, "seconds,rate\n0,2\n300,9\n"},
		{[]string{"import", a1, "--length", "6m", "--out", out}, 0, []string{"trace import: --length 6m: the window [0s, 6m) rounded out to [0s, 10m), whole buckets of 5m\n"}, "seconds,rate\n0,1\n300,2\n"},
		{[]string{"import", g9, "--bucket", "10s", "--values", "rate", "--out", out}, 1, []string{`g9: --values: "rate": only valid with CSV files, and this file is read as counts (by its first line)`}, ""},
		{[]string{"import", mixed, "--bucket", "1s", "--out", out}, 1, []string{`mixed.log: --bucket: 1s: only valid with CSV and count files, and this file is read as an access log (by its extension)`}, ""},
		{[]string{"info", a1, "--max-malformed", "5"}, 1, []string{`a1.csv: --max-malformed: 5: only valid with access logs, and this file is read as CSV (by its extension)`}, ""},
		{[]string{"import", g10, "--out", out}, 1, []string{"g10: each of its 3 lines holds 2 numbers: it looks like a table of 2 columns, not counts in order; give it as CSV with a header row naming the columns (time,requests), or --format counts"}, ""},
		{[]string{"import", g10, "--format", "counts", "--out", out}, 0, nil, "seconds,rate\n0,0\n1,5\n2,1\n3,7\n4,2\n5,9\n"},
	} {
		os.Remove(out)
		code, _, errs := runTraceCmd(tc.args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s", tc.args, code, tc.code, errs)
			continue
		}
		for _, w := range tc.stderr {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr\n%s\nwant %q", tc.args, errs, w)
			}
		}
		if tc.out != "" {
			if b, _ := os.ReadFile(out); string(b) != tc.out {
				t.Errorf("%v: wrote %q, want %q", tc.args, b, tc.out)
			}
		}
	}
}

// trace info takes its flags after FILE too, as trace import does.
func TestTraceInfoFlagsAfterFile(t *testing.T) {
	dir := t.TempDir()
	a16 := writeTemp(t, dir, "a16.csv", "index,requests\n0,300\n1,600\n")
	code, out, errs := runTraceCmd("info", a16, "--bucket", "5m")
	if code != 0 || !strings.Contains(out, "buckets       2 × 5m0s\n") {
		t.Errorf("info FILE --bucket 5m: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runTraceCmd("info", a16, "b.csv"); code != 1 || !strings.Contains(errs, `unexpected argument "b.csv"`) {
		t.Errorf("info with two files: exit %d, %s", code, errs)
	}
	if code, _, errs := runTraceCmd("info", "--bucket", "5m"); code != 1 || !strings.Contains(errs, "want one FILE, got none") {
		t.Errorf("info without a file: exit %d, %s", code, errs)
	}
}

// A flag given under both of its names is refused, whichever comes first; one name
// alone works.
func TestAliasGivenTwice(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--builtin", "step", "--from", "1h", "--start", "30h", "--length", "1h", "--timeline", ""}, "--from is another name of --start: give only one of them"},
		{[]string{"sim", "--builtin", "step", "--start", "1h", "--from", "30h", "--length", "1h", "--timeline", ""}, "--from is another name of --start: give only one of them"},
		{[]string{"trace", "synth", "--default", "step", "--builtin", "bursty"}, "--default is another name of --builtin: give only one of them"},
		{[]string{"trace", "synth", "--builtin", "step", "--trace-seed", "1", "--seed", "2"}, "--seed is another name of --trace-seed: give only one of them"},
	} {
		if code, _, errs := runCmd(tc.args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, errs, tc.want)
		}
	}
	code, a, errs := runCmd("trace", "synth", "--builtin", "step", "--start", "1h", "--length", "1h")
	if code != 0 {
		t.Fatalf("--start: exit %d: %s", code, errs)
	}
	if code, b, errs := runCmd("trace", "synth", "--default", "step", "--seed", "1", "--start", "1h", "--length", "1h"); code != 0 || a != b {
		t.Errorf("aliases alone: exit %d (%s), output differs: %v", code, errs, a != b)
	}
	if _, _, errs := runCmd("sim", "--help"); !strings.Contains(errs, "-from duration\n    \tsame as --start (a duration)\n") {
		t.Errorf("sim --help:\n%s", errs)
	}
}

// A query whose range holds fewer than two scrapes of a metric the dump has says so,
// instead of asking whether the metric is scraped.
func TestTraceImportDumpShortRange(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "om.txt")
	if code, _, errs := runCmd("sim", "--builtin", "step", "--length", "2h", "--scale-mean", "20", "--policy", "hpa", "--timeline", "", "--openmetrics", dump); code != 0 {
		t.Fatalf("sim: exit %d: %s", code, errs)
	}
	out := filepath.Join(dir, "out.csv")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--query", "sum(rate(http_requests_total[10s]))"}, 1,
			"the dump " + dump + ": query sum(rate(http_requests_total[10s])): no data: http_requests_total is scraped every 15s there, and a range of 10s holds fewer than the two samples rate() needs: give a range of at least 30s, twice the scrape interval"},
		{[]string{"--query", "sum(rate(http_requests_total[30s]))"}, 0, "trace import: wrote " + out + ": 119 buckets of 1m0s"},
		{[]string{"--query", "sum(rate(nope_total[10s]))"}, 1, "(is the metric scraped there?)"},
		{[]string{"--bucket", "5m"}, 1, "format flags: only valid with a trace file"},
	} {
		args := append([]string{"import", "--dump", dump, "--out", out}, tc.args...)
		if code, _, errs := runTraceCmd(args...); code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

// A spec file is named as it was given.
func TestSimSynthNamedAsGiven(t *testing.T) {
	if code, _, errs := runCmd("sim", "--synth", os.DevNull); code != 1 || !strings.Contains(errs, "--synth: "+os.DevNull+": empty spec") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
