package traces

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Inputs as production exports write them: offsets in every spelling, Excel's
// separator line, joined files, spreadsheets' decimal commas, local times across a
// change of daylight saving time.

func TestLoadCSVMessyExports(t *testing.T) {
	start := time.Date(2015, 2, 26, 20, 42, 53, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		start    time.Time     // the trace's start, in UTC
		bucket   time.Duration // 5m unless set
	}{
		{"RFC 3339 offset", "timestamp,value\n2015-02-26T21:42:53+01:00,5\n2015-02-26T21:47:53+01:00,6\n", start, 0},
		{"Z", "timestamp,value\n2015-02-26T20:42:53Z,5\n2015-02-26T20:47:53Z,6\n", start, 0},
		{"basic offset +0100", "timestamp,value\n2015-02-26T21:42:53+0100,5\n2015-02-26T21:47:53+0100,6\n", start, 0},
		{"basic offset with milliseconds", "timestamp,value\n2015-02-26T21:42:53.000+0100,5\n2015-02-26T21:47:53.000+0100,6\n", start, 0},
		{"hours-only offset (PostgreSQL)", "timestamp,value\n2015-02-26 21:42:53+01,5\n2015-02-26 21:47:53+01,6\n", start, 0},
		{"space before the offset", "timestamp,value\n2015-02-26 21:42:53 +01:00,5\n2015-02-26 21:47:53 +0100,6\n", start, 0},
		{"UTC suffix (BigQuery)", "timestamp,value\n2015-02-26 20:42:53 UTC,5\n2015-02-26 20:47:53.000000 UTC,6\n", start, 0},
		{"minutes with an offset", "timestamp,value\n2015-02-26T21:42+01:00,5\n2015-02-26T21:47+01:00,6\n", start.Add(-53 * time.Second), 0},
		{"offsets that change (daylight saving time)", "timestamp,value\n2015-03-29T01:00:00+01:00,5\n2015-03-29T03:00:00+02:00,6\n", time.Date(2015, 3, 29, 0, 0, 0, 0, time.UTC), time.Hour},
		{"Excel separator line", "sep=;\ntimestamp;value\n2015-02-26 20:42:53;5\n2015-02-26 20:47:53;6\n", start, 0},
		{"Excel separator line, CRLF", "sep=,\r\ntimestamp,value\r\n2015-02-26 20:42:53,5\r\n2015-02-26 20:47:53,6\r\n", start, 0},
		{"quoted fields and spaces around header names", "\" timestamp \", \"value \"\n\"2015-02-26 20:42:53\",\"5\"\n\"2015-02-26 20:47:53\",\"6\"\n", start, 0},
		{"blank lines and comments between rows", "timestamp,value\n2015-02-26 20:42:53,5\n\n# a note\n\n2015-02-26 20:47:53,6\n", start, 0},
		{"an unnamed empty last column", "timestamp,value,\n2015-02-26 20:42:53,5,\n2015-02-26 20:47:53,6,\n", start, 0},
		{"scientific notation", "timestamp,value\n2015-02-26 20:42:53,5e0\n2015-02-26 20:47:53,0.6E+1\n", start, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadCSV(strings.NewReader(tc.in), "t.csv", CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			bucket := tc.bucket
			if bucket == 0 {
				bucket = 5 * time.Minute
			}
			if !tr.Start.Equal(tc.start) || tr.Bucket != bucket || tr.Rates[0]*bucket.Seconds() != 5 {
				t.Fatalf("start %v, bucket %v, rates %v; want %v, %v, first count 5", tr.Start, tr.Bucket, tr.Rates, tc.start, bucket)
			}
		})
	}
}

func TestLoadCSVMessyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string
	}{
		{"the header again (files joined)", "timestamp,value\n2015-02-26 20:42:53,5\nTimestamp,Value\n2015-02-26 20:47:53,6\n",
			"t.csv line 3: the header row again (first at line 1): files joined together?"},
		{"two columns named value", "timestamp,value,value\n2015-02-26 20:42:53,5,7\n2015-02-26 20:47:53,6,8\n",
			`t.csv line 1: value column "value": columns 1 and 2 both have this name; give a 0-based index`},
		{"two columns named timestamp", "timestamp,timestamp,requests\n0,0,7\n",
			`t.csv line 1: time column "timestamp": columns 0 and 1 both have this name`},
		{"out of order, off the grid of the first rows", "timestamp,value\n2015-02-26T20:40:00Z,5\n2015-02-26T20:45:00Z,6\n2015-02-26T20:42:00Z,6\n",
			`t.csv line 4: timestamp "2015-02-26T20:42:00Z": not after the previous row (line 3): rows must be strictly increasing`},
		{"newest first", "seconds,rate\n60,5\n0,6\n", `t.csv line 3: timestamp "0": not after the previous row (line 2): rows must be strictly increasing (newest first? sort them oldest first)`},
		{"local times when daylight saving time ends", "timestamp,value\n2015-10-25 01:30:00,5\n2015-10-25 02:00:00,5\n2015-10-25 02:30:00,5\n2015-10-25 02:00:00,6\n",
			"t.csv line 5: timestamp \"2015-10-25 02:00:00\": not after the previous row (line 4): rows must be strictly increasing (if these are local times, daylight saving time repeats an hour"},
		{"decimal comma", "timestamp;value\n2015-02-26 20:42:53;5,5\n", `t.csv line 2: count "5,5": not a number: write numbers with a decimal point and no thousands separators`},
		{"thousands separator", "timestamp,value\n2015-02-26 20:42:53,\"1,234\"\n", `t.csv line 2: count "1,234": not a number: write numbers with a decimal point`},
		{"empty value", "timestamp,value\n2015-02-26 20:42:53,\n2015-02-26 20:47:53,6\n", "t.csv line 2: count is empty: leave the row out (a missing bucket reads as 0) or write 0"},
		{"one column", "requests\n5\n6\n", "t.csv line 1: value column: the first row has only 1 column(s), want a time and a value column (for one count per line without times, give --format counts and make the header row a comment, # requests, or delete it)"},
		{"one row", "timestamp,value\n2015-02-26 20:42:53,5\n", "t.csv: one data row: cannot infer the bucket length; give it (--bucket)"},
		{"non-UTF-8 byte in a value", "timestamp,value\n2015-02-26 20:42:53,5\xff\n", `t.csv line 2: count "5\xff": not a number`},
		{"a zone name", "timestamp,value\n2015-02-26 20:42:53 CET,5\n", `t.csv line 2: timestamp "2015-02-26 20:42:53 CET": not ISO 8601`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadCSV(strings.NewReader(tc.in), "t.csv", CSVOptions{})
			if err == nil {
				t.Fatalf("no error; got %d buckets of %v", len(tr.Rates), tr.Bucket)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// gz returns data compressed with gzip.
func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tarOf returns a tar archive of one file.
func tarOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLoadFileCompressedAndForeign(t *testing.T) {
	csv := []byte("seconds,rate\n0,1\n10,2\n")
	log := []byte(`1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 6245` + "\n")
	// bzip2 -c of "4 4\n" (the standard library has no bzip2 writer).
	bz := []byte("BZh91AY&SY8\xba\xcfy\x00\x00\x01\xd8\x00\x00\x10@\x00\x04\x00 \x000\xcc\x0cz\x88qw$S\x85\t\x03\x8b\xac\xf7\x90")
	for _, tc := range []struct {
		file string
		data []byte
		opt  LoadOptions
		name string // the trace's name; "" means an error is wanted
		want string // the error, or the trace's bucket and total as "bucket total"
		is   error
	}{
		{"a.csv.gz", gz(t, csv), LoadOptions{}, "a", "10s 30", nil},
		{"A.CSV.GZ", gz(t, csv), LoadOptions{}, "A", "10s 30", nil},
		{"access.log.gz", gz(t, log), LoadOptions{}, "access", "1s 1", nil},
		{"export.gz", gz(t, csv), LoadOptions{}, "export", "10s 30", nil}, // sniffed inside
		{"mislabelled.csv", gz(t, csv), LoadOptions{}, "mislabelled", "10s 30", nil},
		{"two-streams.csv.gz", append(gz(t, []byte("seconds,rate\n0,1\n")), gz(t, []byte("10,2\n"))...), LoadOptions{}, "two-streams", "10s 30", nil},
		{"w.txt.bz2", bz, LoadOptions{}, "w", "1s 8", nil},
		{"b.tgz", gz(t, tarOf(t, "b.csv", csv)), LoadOptions{}, "b", "10s 30", nil},
		{"b.tar.gz", gz(t, tarOf(t, "dir/b.log", log)), LoadOptions{}, "b", "1s 1", nil},
		{"c.tgz", gz(t, tarOf(t, "c.csv.gz", gz(t, csv))), LoadOptions{}, "c", "10s 30", nil},
		{"t.tsv", []byte("seconds\trate\n0\t1\n10\t2\n"), LoadOptions{}, "t", "10s 30", nil},
		{"sniffed-semicolons", []byte("seconds;rate\n0;1\n10;2\n"), LoadOptions{}, "sniffed-semicolons", "10s 30", nil},
		{"sniffed-tabs", []byte("# export\nseconds\trate\n0\t1\n10\t2\n"), LoadOptions{}, "sniffed-tabs", "10s 30", nil},
		{"sniffed-tab-counts", []byte("1\t2\t3\n"), LoadOptions{}, "sniffed-tab-counts", "1s 6", nil},

		{"truncated.csv.gz", gz(t, csv)[:30], LoadOptions{}, "", "truncated.csv.gz: gzip data: unexpected EOF (truncated or corrupt file?)", nil},
		{"plain.csv.gz", csv, LoadOptions{}, "", "plain.csv.gz: named .gz but not gzip data", nil},
		{"plain.txt.bz2", csv, LoadOptions{}, "", "plain.txt.bz2: named .bz2 but not bzip2 data", nil},
		{"bomb.csv.gz", gz(t, append(append([]byte{}, csv...), bytes.Repeat([]byte("\n"), 4096)...)), LoadOptions{MaxBytes: 1024}, "", "bomb.csv.gz: more than 1.0 KiB", ErrTooLarge},
		{"twice.csv.gz", gz(t, gz(t, csv)), LoadOptions{}, "", "twice.csv.gz: compressed data inside compressed data or an archive", nil},
		{"bad.tgz", csv, LoadOptions{}, "", "bad.tgz: reading archive: gzip: invalid header", nil},
		{"utf16.csv", []byte("\xff\xfes\x00,\x00r\x00\n\x00"), LoadOptions{}, "", "utf16.csv: UTF-16 text: save it as UTF-8", nil},
		{"utf16-no-bom.csv", []byte("s\x00,\x00r\x00\n\x00"), LoadOptions{}, "", "utf16-no-bom.csv: UTF-16 text", nil},
		{"utf16be.txt", []byte("\x00s\x00,\x00r\x00\n"), LoadOptions{}, "", "utf16be.txt: UTF-16 text", nil},
		{"book.xlsx", []byte("PK\x03\x04\x14\x00\x06\x00"), LoadOptions{}, "", "book.xlsx: a zip archive (an .xlsx workbook is one): unzip it, or export the sheet as CSV", nil},
		{"forced.csv", []byte("PK\x03\x04\x14\x00\x06\x00"), LoadOptions{Format: FormatCounts}, "", "forced.csv: a zip archive", nil},
		{"z.csv", []byte("\x28\xb5\x2f\xfd\x00\x00"), LoadOptions{}, "", "z.csv: zstd-compressed", nil},
		{"x.log", []byte("\xfd7zXZ\x00\x00"), LoadOptions{}, "", "x.log: xz-compressed", nil},
		{"p.csv", []byte("PAR1\x15\x04"), LoadOptions{}, "", "p.csv: a Parquet file", nil},
		{"a.out", []byte("\x7fELF\x02\x01\x01\x00\x00junk"), LoadOptions{}, "", "a.out: binary data (a NUL byte at offset 7), not a text trace", nil},
		{"d8.tar", tarOf(t, "d4.csv", csv), LoadOptions{}, "", "d8.tar: an uncompressed tar archive: give the file inside it, or compress the archive (.tgz, .tbz2: read when it holds one file)", nil},
		{"sniffed-tar", tarOf(t, "d4.csv", csv), LoadOptions{Format: FormatCSV}, "", "sniffed-tar: an uncompressed tar archive", nil},
		{"mac.csv", []byte("seconds,rate\r0,1\r10,2\r"), LoadOptions{}, "", "mac.csv: its lines end in a lone CR (classic Mac OS text)", nil},
		{"crlf.csv", []byte("seconds,rate\r\n0,1\r\n10,2\r\n"), LoadOptions{}, "crlf", "10s 30", nil},
		{"header.txt", []byte("timestamp value\n0 1\n"), LoadOptions{}, "", `header.txt line 1: count "timestamp": not a number (a table with a header? give --format csv; one count per line under a header? make the header a comment, # timestamp, or delete it)`, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			tr, err := LoadFile(p, tc.opt)
			if tc.name == "" {
				if err == nil {
					t.Fatalf("no error; got %d buckets of %v", len(tr.Rates), tr.Bucket)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Fatalf("error %v is not %v", err, tc.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%v %g", tr.Bucket, tr.Total()); tr.Name != tc.name || got != tc.want {
				t.Fatalf("name %q, bucket and total %q; want %q, %q", tr.Name, got, tc.name, tc.want)
			}
		})
	}
}

func TestLoadAccessLogMessy(t *testing.T) {
	line := func(host, sec string) string {
		return host + ` - - [10/Oct/2000:13:55:` + sec + ` -0700] "GET / HTTP/1.1" 200 -` + "\n"
	}
	long := `h - - [10/Oct/2000:13:55:37 -0700] "GET /` + strings.Repeat("a", MaxLineBytes) + ` HTTP/1.1" 200 1` + "\n"
	atLimit := `h - - [10/Oct/2000:13:55:37 -0700] "GET /`
	atLimit += strings.Repeat("a", MaxLineBytes-len(atLimit)-len(` HTTP/1.1" 200 1`)) + ` HTTP/1.1" 200 1` + "\r\n"
	for _, tc := range []struct {
		name, in string
		maxBad   int
		want     string  // error substring; "" means it loads
		total    float64 // requests, when it loads
	}{
		{"IPv6 hosts, bare and in brackets", line("2001:db8::1", "36") + line("::1", "36") + line("[2001:db8::2]", "37") + line("[::1]:443", "37"), 0, "", 4},
		{"a line over 1 MiB", line("h", "36") + long + line("h", "38"), 0, "a.log line 2: longer than 1048576 bytes: line too long", 0},
		{"a line over 1 MiB, malformed lines allowed", line("h", "36") + long + line("h", "38"), 1, "", 2},
		{"a line over 1 MiB at the end, any malformed lines allowed", line("h", "36") + strings.TrimSuffix(long, "\n"), -1, "", 1},
		{"a line of exactly 1 MiB and CRLF", atLimit + line("h", "38"), 0, "", 2},
		{"huge span, in days", line("h", "36") + `h - - [10/Oct/2030:13:55:36 -0700] "GET / HTTP/1.1" 200 -` + "\n", 0, "a.log line 2: requests span 946684801s (10957.0 days) from line 1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadAccessLog(strings.NewReader(tc.in), "a.log", AccessLogOptions{MaxMalformed: tc.maxBad})
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.Total() != tc.total {
				t.Fatalf("%v requests, want %v", tr.Total(), tc.total)
			}
		})
	}
}
