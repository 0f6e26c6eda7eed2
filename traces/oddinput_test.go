package traces

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Odd inputs as users bring them: a file without a header whose first bucket has
// no number, empty rows, epoch times in another unit than the one guessed, one
// column of counts under a header.

// A first row holding a time is data, whatever its value: it is not taken for a
// header (and dropped), and its value's error names line 1. A row without a time
// (a spreadsheet's empty rows) is refused as such, and an unclosed quote by the
// line it opens on, not the line where the file ends.
func TestLoadCSVOddRows(t *testing.T) {
	first := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     string // the error; "" for a trace starting at first
	}{
		{"empty first value", "2020-01-01 00:00:00,\n2020-01-01 00:01:00,7\n2020-01-01 00:02:00,8\n", "t.csv line 1: count is empty"},
		{"dash as first value", "2020-01-01 00:00:00,-\n2020-01-01 00:01:00,7\n2020-01-01 00:02:00,8\n", `t.csv line 1: count "-": not a number`},
		{"N/A as first value, RFC 3339", "2020-01-01T00:00:00Z,N/A\n2020-01-01T00:01:00Z,7\n2020-01-01T00:02:00Z,8\n", `t.csv line 1: count "N/A": not a number`},
		{"value first, time second", "n/a,2020-01-01 00:00:00\n7,2020-01-01 00:01:00\n", `t.csv line 1: timestamp "n/a": not ISO 8601`},
		{"a spreadsheet's empty rows at the end", "time,requests\n2020-01-01 00:00:00,5\n2020-01-01 00:01:00,7\n,\n,\n", "t.csv line 4: timestamp is empty: every row needs a time; delete the row"},
		{"an empty time, seconds", "seconds,requests\n0,5\n,7\n", "t.csv line 3: timestamp is empty"},
		{"an unclosed quote", "time,requests\n2020-01-01 00:00:00,\"5\n2020-01-01 00:01:00,7\n2020-01-01 00:02:00,8\n",
			`t.csv line 2: extraneous or missing " in quoted-field: a quoted field of this row runs on to line 4`},
		{"numbers", "2020-01-01 00:00:00,5\n2020-01-01 00:01:00,7\n2020-01-01 00:02:00,8\n", ""},
		{"a header still is one", "time,requests\n2020-01-01 00:00:00,5\n2020-01-01 00:01:00,7\n2020-01-01 00:02:00,8\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadCSV(strings.NewReader(tc.in), "t.csv", CSVOptions{})
			if tc.want != "" {
				if err == nil {
					t.Fatalf("no error; got %d buckets from %v", len(tr.Rates), tr.Start)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tr.Start.Equal(first) || len(tr.Rates) != 3 || tr.Rates[0]*tr.Bucket.Seconds() != 5 {
				t.Fatalf("start %v, %d buckets, rates %v; want %v, 3 buckets, the first holding 5", tr.Start, len(tr.Rates), tr.Rates, first)
			}
		})
	}
}

// A numeric time column in a Unix unit the loader does not take it for is refused
// with the unit its size suggests and what to give; the time format it names then
// reads a file in milliseconds to its start.
func TestLoadCSVEpochUnitHints(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		want     string
	}{
		{"milliseconds before 2001, guessed seconds", "timestamp,requests\n804556800000,5\n804556860000,7\n", CSVOptions{},
			`t.csv line 2: timestamp "804556800000": out of range: Unix milliseconds? give --time-format unix_ms`},
		{"milliseconds under a column named epoch", "epoch,requests\n1577836800000,5\n1577836860000,7\n", CSVOptions{},
			`t.csv line 2: timestamp "1577836800000": out of range: Unix milliseconds? give --time-format unix_ms`},
		{"milliseconds, unix given", "time,requests\n1577836800000,5\n1577836860000,7\n", CSVOptions{TimeFormat: TimeUnix},
			"out of range: Unix milliseconds? give --time-format unix_ms"},
		{"microseconds", "time,requests\n1577836800000000,5\n1577836860000000,7\n", CSVOptions{},
			"out of range: Unix microseconds? convert them to milliseconds (divide by 1000) and give --time-format unix_ms"},
		{"nanoseconds (InfluxDB)", "time,requests\n1577836800000000000,5\n1577836860000000000,7\n", CSVOptions{},
			"out of range: Unix nanoseconds? convert them to milliseconds (divide by 1e6) and give --time-format unix_ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCSV(strings.NewReader(tc.in), "t.csv", tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
			if !strings.Contains(tc.want, "give --time-format unix_ms") || strings.Contains(tc.want, "convert") {
				return
			}
			// The hint is right: the file reads in milliseconds, to its wall-clock start.
			tr, err := LoadCSV(strings.NewReader(tc.in), "t.csv", CSVOptions{TimeFormat: TimeUnixMillis})
			if err != nil {
				t.Fatalf("with the time format the hint names: %v", err)
			}
			ms, err := strconv.ParseInt(strings.Split(strings.Split(tc.in, "\n")[1], ",")[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if want := time.UnixMilli(ms).UTC(); !tr.Start.Equal(want) || tr.Bucket != time.Minute {
				t.Fatalf("with unix_ms: start %v, bucket %v; want %v, 1m", tr.Start, tr.Bucket, want)
			}
		})
	}
	// A later row of another size is a mix of units, which no time format reads:
	// no hint.
	_, err := LoadCSV(strings.NewReader("timestamp,requests\n1577836800,5\n1577836860000,7\n"), "t.csv", CSVOptions{})
	if err == nil || !strings.Contains(err.Error(), `t.csv line 3: timestamp "1577836860000": out of range`) || strings.Contains(err.Error(), "unix_ms") {
		t.Fatalf("mixed units: %v; want line 3 out of range, no hint", err)
	}
}

// Unix seconds before September 2001 (NASA's 1995 logs) are guessed to be offsets
// from the start, and the trace has no date: the notes say so, with the date they
// would be and the time format to give.
func TestLoadCSVOldEpochNote(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		want     string // the note; "" for none
	}{
		{"1995 under timestamp", "timestamp,requests\n804571200,5\n804571260,7\n", CSVOptions{},
			`t.csv: time column "timestamp": read as seconds from the start of the trace, whose date is then unknown; if they are Unix seconds (the first, 804571200, would be 1995-07-01T04:00:00Z), give --time-format unix`},
		{"1995 without a header", "804571200,5\n804571260,7\n", CSVOptions{},
			`t.csv: time column 0: read as seconds from the start of the trace, whose date is then unknown; if they are Unix seconds (the first, 804571200, would be 1995-07-01T04:00:00Z)`},
		{"offsets from 0", "time,requests\n0,5\n60,7\n", CSVOptions{}, ""},
		{"offsets from a day in", "time,requests\n86400,5\n86460,7\n", CSVOptions{}, ""},
		{"2020: read as Unix seconds", "time,requests\n1577836800,5\n1577836860,7\n", CSVOptions{}, ""},
		{"seconds asked for", "time,requests\n804571200,5\n804571260,7\n", CSVOptions{TimeFormat: TimeSeconds}, ""},
		{"a column named seconds", "seconds,requests\n804571200,5\n804571260,7\n", CSVOptions{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			tr, err := loadCSV(strings.NewReader(tc.in), "t.csv", tc.opt, noteList(&got))
			if err != nil {
				t.Fatal(err)
			}
			note := strings.Join(got, "\n")
			if tc.want == "" && strings.Contains(note, "Unix seconds") || !strings.Contains(note, tc.want) {
				t.Fatalf("notes %q\nwant %q", note, tc.want)
			}
			if tc.want == "" {
				return
			}
			// The trace read is the offsets', and the time format named reads the date.
			if !tr.Start.IsZero() {
				t.Fatalf("start %v, want none", tr.Start)
			}
			opt := tc.opt
			opt.TimeFormat = TimeUnix
			tu, err := LoadCSV(strings.NewReader(tc.in), "t.csv", opt)
			if err != nil || !strings.Contains(tc.want, tu.Start.Format(time.RFC3339)) {
				t.Fatalf("with --time-format unix: %v, %v; want the date the note names", tu, err)
			}
		})
	}
}

// One count per line under a header: neither loader sends the user to the other
// without saying what to change, and what they say to do loads the file.
func TestOneColumnUnderAHeader(t *testing.T) {
	in := "requests\n5\n7\n9\n"
	_, cerr := LoadCSV(strings.NewReader(in), "t.csv", CSVOptions{})
	_, kerr := loadCounts(strings.NewReader(in), "t.txt", time.Second, DefaultMaxBuckets, true)
	for _, err := range []error{cerr, kerr} {
		if err == nil || !strings.Contains(err.Error(), "# requests") || !strings.Contains(err.Error(), "comment") {
			t.Fatalf("error %v: want it to say to make the header a comment, # requests", err)
		}
	}
	if !strings.Contains(cerr.Error(), "--format counts") {
		t.Fatalf("CSV error %v: want it to name --format counts", cerr)
	}
	tr, err := loadCounts(strings.NewReader("# requests\n5\n7\n9\n"), "t.txt", time.Second, DefaultMaxBuckets, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := ratesAre(time.Second, 5, 7, 9)(tr); err != nil {
		t.Fatal(err)
	}
	// Columns separated by spaces are no one column: that is what is said.
	_, err = LoadCSV(strings.NewReader("timestamp requests\n0 5\n60 7\n"), "t.csv", CSVOptions{})
	if err == nil || !strings.Contains(err.Error(), "separated by spaces? separate them by commas") {
		t.Fatalf("space-separated columns: %v", err)
	}
}
