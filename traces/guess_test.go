package traces

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What the loaders guess from a file's header and shape, and what they say of it:
// the value column among several, a time column's unit, a table given as counts,
// options the format does not read, malformed lines skipped.

// noteList collects notes as Flags.Notes prints them: the field, if any, then the
// text.
func noteList(got *[]string) notes {
	return func(field, text string) {
		if field != "" {
			text = field + " " + text
		}
		*got = append(*got, text)
	}
}

func TestLoadCSVValueColumn(t *testing.T) {
	const t0, t1 = "2015-02-26 21:42:53", "2015-02-26 21:47:53"
	rows := func(header string, a, b string) string {
		return header + "\n" + t0 + "," + a + "\n" + t1 + "," + b + "\n"
	}
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		want     string // the note, or the error when rates is nil
		rates    []float64
	}{
		{"named for hits, after a byte count", rows("timestamp,bytes,hits", "5000,300", "6000,600"), CSVOptions{},
			`t.csv: time from column "timestamp", counts from column "hits"`, []float64{1, 2}},
		{"named req_count, after cpu", rows("timestamp,cpu,req_count", "50,300", "60,600"), CSVOptions{},
			`t.csv: time from column "timestamp", counts from column "req_count"`, []float64{1, 2}},
		{"named after a counter", rows("time,bytes_sent,http_requests_total", "5000,300", "6000,600"), CSVOptions{},
			`counts from column "http_requests_total"`, []float64{1, 2}},
		// A column named as a value column is no guess: nothing is said.
		{"a known name first", rows("timestamp,hits,value", "300,600", "600,1200"), CSVOptions{},
			"", []float64{2, 4}},
		{"the only other number", rows("timestamp,host,bytes", "a,300", "b,600"), CSVOptions{},
			`t.csv: time from column "timestamp", counts from column "bytes"`, []float64{1, 2}},
		{"two numbers, none named", rows("timestamp,cpu,mem", "50,10", "60,20"), CSVOptions{},
			`t.csv line 1: value column: columns "cpu" and "mem" hold numbers, and none is named for requests (like requests, count, value, hits or rate): choose one (--value-column NAME)`, nil},
		{"three numbers, none named", rows("timestamp,min,max,avg", "1,3,2", "1,3,2"), CSVOptions{},
			`columns "min", "max" and "avg" hold numbers`, nil},
		{"two numbers, one chosen", rows("timestamp,cpu,mem", "50,300", "60,600"), CSVOptions{ValueColumn: "mem"},
			`t.csv: time from column "timestamp", counts from column "mem"`, []float64{1, 2}},
		{"a rate named so", rows("timestamp,bytes,rps", "5000,1", "6000,2"), CSVOptions{},
			"", []float64{1, 2}},
		{"a time column in minutes", "minute,requests\n0,300\n5,600\n", CSVOptions{},
			`t.csv: time from column "minute", counts from column "requests"`, []float64{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			tr, err := loadCSV(strings.NewReader(tc.in), "t.csv", tc.opt, noteList(&got))
			if tc.rates == nil {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := ratesAre(5*time.Minute, tc.rates...)(tr); err != nil {
				t.Error(err)
			}
			if tc.want == "" && len(got) != 0 {
				t.Errorf("notes %q, want none", got)
			}
			if tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)) {
				t.Errorf("notes %q, want one holding %q", got, tc.want)
			}
		})
	}
	// Without a header nothing is guessed by name, and nothing is said.
	var got []string
	if _, err := loadCSV(strings.NewReader("0,5\n1,7\n"), "t.csv", CSVOptions{}, noteList(&got)); err != nil || len(got) != 0 {
		t.Errorf("headerless: %v, notes %q; want none", err, got)
	}
}

// A time column named after a unit holds offsets in it, or with _index bucket
// numbers of that length; an index of no unit needs the bucket.
func TestLoadCSVTimeUnits(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		bucket   time.Duration
		rates    []float64
		err      string
	}{
		{"minute", "minute,requests\n0,60\n1,120\n2,30\n", CSVOptions{}, time.Minute, []float64{1, 2, 0.5}, ""},
		{"minutes five apart", "minutes,requests\n0,300\n5,600\n15,300\n", CSVOptions{}, 5 * time.Minute, []float64{1, 2, 0, 1}, ""},
		{"min", "min,requests\n0,60\n1,120\n", CSVOptions{}, time.Minute, []float64{1, 2}, ""},
		{"hour", "hour,requests\n0,3600\n1,7200\n", CSVOptions{}, time.Hour, []float64{1, 2}, ""},
		{"hours, a fraction", "hours,requests\n0,1800\n0.5,3600\n", CSVOptions{}, 30 * time.Minute, []float64{1, 2}, ""},
		{"sec", "sec,rate\n0,1\n1,2\n", CSVOptions{}, time.Second, []float64{1, 2}, ""},
		{"second", "second,rate\n0,1\n10,2\n", CSVOptions{}, 10 * time.Second, []float64{1, 2}, ""},
		{"ms", "ms,rate\n0,1\n250,2\n", CSVOptions{}, 250 * time.Millisecond, []float64{1, 2}, ""},
		{"milliseconds", "milliseconds,rate\n1000,1\n1500,2\n", CSVOptions{}, 500 * time.Millisecond, []float64{1, 2}, ""},
		{"minute_index", "minute_index,requests\n0,60\n2,120\n", CSVOptions{}, time.Minute, []float64{1, 0, 2}, ""},
		{"hours_index", "hours_index,requests\n0,3600\n2,3600\n", CSVOptions{}, time.Hour, []float64{1, 0, 1}, ""},
		{"min_index", "min_index,requests\n0,60\n1,60\n", CSVOptions{}, time.Minute, []float64{1, 1}, ""},
		{"ms_index", "ms_index,rate\n0,1\n1,2\n", CSVOptions{}, time.Millisecond, []float64{1, 2}, ""},
		{"the unit column second", "requests,minute\n60,0\n120,1\n", CSVOptions{}, time.Minute, []float64{1, 2}, ""},
		{"the bucket given", "minute_index,requests\n0,300\n1,600\n", CSVOptions{Bucket: 5 * time.Minute}, 5 * time.Minute, []float64{1, 2}, ""},
		{"the format given", "minute,rate\n0,1\n60,2\n", CSVOptions{TimeFormat: TimeSeconds}, time.Minute, []float64{1, 2}, ""},
		{"an index of no unit", "bucket_index,requests\n0,1\n1,2\n", CSVOptions{}, 0, nil,
			`t.csv: time column "bucket_index": bucket numbers (index), and its name gives no unit (like minute_index): give the bucket length (--bucket)`},
		{"an index of no unit, the bucket given", "bucket_index,requests\n0,10\n1,20\n", CSVOptions{Bucket: 10 * time.Second}, 10 * time.Second, []float64{1, 2}, ""},
		{"hours out of range", "hours,requests\n0,1\n4000000000,1\n", CSVOptions{}, 0, nil, `t.csv line 3: timestamp "4000000000": out of range`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadCSV(strings.NewReader(tc.in), "t.csv", tc.opt)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := ratesAre(tc.bucket, tc.rates...)(tr); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLoadFileGuesses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string { return writeIn(t, dir, name, data) }
	table := "0 5\n1 7\n2 9\n"
	clf := `h - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1` + "\n"
	prom := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[60,"1"],[120,"2"]]}]}}`
	for _, tc := range []struct {
		file, data string
		opt        LoadOptions
		want       string // an error, or the trace's bucket and rates
	}{
		// A table of numbers is no list of counts, unless counts are asked for.
		{"g10", table, LoadOptions{}, "g10: each of its 3 lines holds 2 numbers: it looks like a table of 2 columns, not counts in order; give it as CSV with a header row"},
		{"w.txt", "# a table\n0 5\n\n1 7\n", LoadOptions{}, "w.txt: each of its 2 lines holds 2 numbers"},
		{"g10", table, LoadOptions{Format: FormatCounts}, "1s [0 5 1 7 2 9]"},
		{"one line", "1 2 3\n", LoadOptions{}, "1s [1 2 3]"},
		{"one a line", "1\n2\n3\n", LoadOptions{}, "1s [1 2 3]"},
		{"ragged", "1 2\n3 4 5\n", LoadOptions{}, "1s [1 2 3 4 5]"},

		// An option the format does not read is refused, naming it and the format.
		{"g9", "1 2 3\n", LoadOptions{CSV: CSVOptions{Bucket: 10 * time.Second, Values: ValuesRate}}, `g9: values: "rate": only valid with CSV files, and this file is read as counts (by its first line)`},
		{"g9", "1 2 3\n", LoadOptions{CSV: CSVOptions{Bucket: 10 * time.Second}}, "10s [0.1 0.2 0.3]"},
		{"c.txt", "1 2 3\n", LoadOptions{CSV: CSVOptions{ValueColumn: "1"}}, `c.txt: value_column: "1": only valid with CSV files, and this file is read as counts (by its extension)`},
		{"a.log", clf, LoadOptions{CSV: CSVOptions{Bucket: time.Second}}, "a.log: bucket: 1s: only valid with CSV and count files, and this file is read as an access log (by its extension)"},
		{"a.log", clf, LoadOptions{CSV: CSVOptions{TimeFormat: TimeUnix}}, `a.log: time_format: "unix": only valid with CSV files`},
		{"p.json", prom, LoadOptions{CSV: CSVOptions{Values: ValuesCount}}, `p.json: values: "count": only valid with CSV files, and this file is read as a Prometheus JSON answer`},
		{"p.json", prom, LoadOptions{CountsBucket: time.Minute}, "p.json: counts_bucket: 1m: only valid with count files"},
		{"t.csv", "seconds,rate\n0,1\n1,2\n", LoadOptions{AccessLog: AccessLogOptions{MaxMalformed: -1}}, "t.csv: max_malformed: -1: only valid with access logs, and this file is read as CSV (by its extension)"},
		{"forced", "seconds,rate\n0,1\n1,2\n", LoadOptions{Format: FormatCSV, AccessLog: AccessLogOptions{MaxMalformed: 2}}, "forced: max_malformed: 2: only valid with access logs, and this file is read as CSV (by the format option)"},
		{"a.log", clf, LoadOptions{AccessLog: AccessLogOptions{MaxMalformed: 2}}, "1s [1]"},
	} {
		tr, err := LoadFile(write(tc.file, tc.data), tc.opt)
		got := fmt.Sprintf("%v %v", tr, err)
		if err == nil {
			got = fmt.Sprintf("%v %v", tr.Bucket, tr.Rates)
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s %+v: %q, want %q", tc.file, tc.opt, got, tc.want)
		}
	}
	// In a config the option is named by its path under load.
	src := Source{File: write("g9", "1 2 3\n"), Load: LoadOptions{CSV: CSVOptions{Values: ValuesRate}}}
	if _, err := src.Trace(); err == nil || !strings.Contains(err.Error(), `g9: load.values: "rate": only valid with CSV files`) {
		t.Errorf("source: %v, want the option named load.values", err)
	}
}

// Malformed lines skipped under MaxMalformed are counted, and the count said.
func TestAccessLogSkippedNote(t *testing.T) {
	good := `h - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1`
	in := "garbage\n" + good + "\n\nh - - [01/Jul/1995:00:00:02 -0400] \"GET / HTTP/1.0\" 999 1\n" + good + "\nmore garbage\n"
	var got []string
	tr, err := loadAccessLogLimits(strings.NewReader(in), "a.log", AccessLogOptions{MaxMalformed: -1}, MaxRate, MaxLineBytes, noteList(&got))
	if err != nil {
		t.Fatal(err)
	}
	if err := ratesAre(time.Second, 2)(tr); err != nil {
		t.Error(err)
	}
	want := "a.log: skipped 3 malformed lines of 5 (first at line 1: no host field: not Common or Combined Log Format)"
	if len(got) != 1 || got[0] != want {
		t.Errorf("notes %q, want %q", got, want)
	}
	got = nil
	if _, err := loadAccessLogLimits(strings.NewReader(good+"\n"), "a.log", AccessLogOptions{MaxMalformed: -1}, MaxRate, MaxLineBytes, noteList(&got)); err != nil || len(got) != 0 {
		t.Errorf("nothing skipped: %v, notes %q; want none", err, got)
	}
	_, err = loadAccessLogLimits(strings.NewReader("x\ny\n"), "a.log", AccessLogOptions{MaxMalformed: -1}, MaxRate, MaxLineBytes, nil)
	if want := "a.log: no requests: no data: skipped 2 malformed lines of 2 (first at line 1: no host field"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("every line malformed: %v, want %q", err, want)
	}
}

// Buckets with no row read as zero requests, which an outage of the logging looks
// like too: the note counts those the shaping keeps and names the longest run; rows
// written as 0, rows without gaps, a crop that leaves the gaps out and a run long
// enough for the zero-run warning give none.
func TestCSVGapNote(t *testing.T) {
	dir := t.TempDir()
	rows := func(ts ...int) string {
		out := "time,requests\n"
		for _, m := range ts {
			out += fmt.Sprintf("%d,6\n", 60*m)
		}
		return out
	}
	long := []int{0, 1}
	for m := 40; m < 60; m++ {
		long = append(long, m)
	}
	for _, c := range []struct {
		name, in string
		src      Source
		want     string
	}{
		{"gaps", rows(0, 1, 5, 6, 7, 10), Source{}, "g.csv: 5 of the 11 buckets read have no row and are taken as zero requests (the longest run, 3m, ends before line 4): if the data is missing there rather than zero, crop around it"},
		{"zeros written", "time,requests\n0,6\n60,0\n120,0\n180,6\n", Source{}, ""},
		{"index", "minute_index,requests\n0,6\n2,6\n", Source{}, "g.csv: 1 of the 3 buckets read have no row and are taken as zero requests (the longest run, 1m, ends before line 3)"},
		{"cropped in", rows(0, 1, 5, 6, 7, 10), Source{Start: 7 * time.Minute}, "g.csv: 2 of the 4 buckets read have no row and are taken as zero requests (the longest run, 2m, ends before line 7)"},
		{"cropped out", rows(0, 1, 5, 6, 7, 10), Source{Start: 5 * time.Minute, Length: 3 * time.Minute}, ""},
		{"resampled", rows(0, 1, 5, 6, 7, 10), Source{Resample: 2 * time.Minute}, "g.csv: 5 of the 10 buckets read have no row"},
		{"long run", rows(long...), Source{}, ""},
	} {
		src := c.src
		src.File = writeIn(t, dir, "g.csv", c.in)
		var got []string
		if _, err := src.TraceNotes(func(n error) { got = append(got, n.Error()) }); err != nil {
			t.Fatal(err)
		}
		note := strings.Join(got, "\n")
		if c.want == "" && note != "" || !strings.Contains(note, c.want) {
			t.Errorf("%s: notes %q, want %q", c.name, note, c.want)
		}
	}
}

// The flags say what the shaping dropped or rounded, naming the flag.
func TestFlagsNotes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a1.csv")
	if err := os.WriteFile(file, []byte("seconds,rate\n0,1\n300,2\n600,9\n"), 0o644); err != nil { // 3 buckets of 5m
		t.Fatal(err)
	}
	for _, tc := range []struct {
		groups FlagGroup
		args   []string
		want   []string // after the note of the columns
		rates  []float64
		bucket time.Duration
	}{
		{FlagLoad | FlagWindow | FlagScale, nil, nil, []float64{1, 2, 9}, 5 * time.Minute},
		{FlagLoad | FlagWindow | FlagScale, []string{"--resample", "10m"},
			[]string{"--resample 10m: dropped the last 5m of the trace (2700 requests), less than a whole bucket"}, []float64{1.5}, 10 * time.Minute},
		{FlagLoad | FlagWindow | FlagScale, []string{"--resample", "15m"}, nil, []float64{4}, 15 * time.Minute},
		{FlagLoad | FlagWindow | FlagScale, []string{"--skip", "7m"},
			[]string{"--skip 7m rounded down to 5m, whole buckets of 5m"}, []float64{2, 9}, 5 * time.Minute},
		{FlagLoad | FlagWindow | FlagScale, []string{"--length", "6m"},
			[]string{"--length 6m: the window [0s, 6m) rounded out to [0s, 10m), whole buckets of 5m"}, []float64{1, 2}, 5 * time.Minute},
		{FlagLoad | FlagWindow | FlagScale, []string{"--skip", "7m", "--length", "5m"},
			[]string{"--length 5m: the window [7m, 12m) rounded out to [5m, 15m), whole buckets of 5m"}, []float64{2, 9}, 5 * time.Minute},
		{FlagLoad | FlagWindow | FlagScale, []string{"--skip", "5m", "--length", "1h"}, nil, []float64{2, 9}, 5 * time.Minute},
		{FlagLoad | FlagCrop, []string{"--start", "7m", "--end", "10m"},
			[]string{"--start 7m rounded down to 5m, whole buckets of 5m"}, []float64{2}, 5 * time.Minute},
		{FlagLoad | FlagCrop, []string{"--end", "11m"},
			[]string{"--end 11m: the window [0s, 11m) rounded out to [0s, 15m), whole buckets of 5m"}, []float64{1, 2, 9}, 5 * time.Minute},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		f := BindFlags(fs, tc.groups)
		var got []string
		f.Notes = func(note string) { got = append(got, note) }
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		tr, err := f.Trace(file)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if err := ratesAre(tc.bucket, tc.rates...)(tr); err != nil {
			t.Errorf("%v: %v", tc.args, err)
		}
		want := tc.want // a1.csv's columns are named as such: nothing is said of them
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%v: notes\n%s\nwant\n%s", tc.args, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// A trace from elsewhere has no file: the flags saying how to read one are refused.
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	f := BindFlags(fs, FlagLoad|FlagWindow|FlagScale)
	fs.Parse([]string{"--bucket", "5m"})
	if _, err := f.Shape(&Trace{Name: "m", Bucket: time.Minute, Rates: []float64{1, 2}}); err == nil || err.Error() != "format flags: only valid with a trace file" {
		t.Errorf("Shape with --bucket: %v", err)
	}
}

func TestSmallThings(t *testing.T) {
	// A rate of -0, as a file may hold it, is read and written as 0.
	tr, err := LoadCSV(strings.NewReader("seconds,rate\n0,-0\n60,1\n"), "z.csv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if 1/tr.Rates[0] < 0 {
		t.Errorf("-0 read as %v", tr.Rates[0])
	}
	if err := WriteCSV(&b, tr); err != nil || b.String() != "seconds,rate\n0,0\n60,1\n" {
		t.Errorf("read back: %q, %v", b.String(), err)
	}
	b.Reset()
	if err := WriteCSV(&b, &Trace{Bucket: time.Second, Rates: []float64{1, math.Copysign(0, -1)}}); err != nil || b.String() != "seconds,rate\n0,1\n1,0\n" {
		t.Errorf("written: %q, %v", b.String(), err)
	}
	if tr, err := LoadCounts(strings.NewReader("-0 1"), "z.txt", time.Second); err != nil || 1/tr.Rates[0] < 0 {
		t.Errorf("counts -0: %v, %v", tr, err)
	}
	// A spec is named as its path was given.
	p := filepath.Join(t.TempDir(), "empty.yaml")
	os.WriteFile(p, nil, 0o644)
	if _, err := ReadSynthSpec(p); err == nil || err.Error() != p+": empty spec: no data" {
		t.Errorf("empty spec: %v, want it named %s", err, p)
	}
}
