package traces

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestLoadCSVLayouts(t *testing.T) {
	day := time.Date(2015, 2, 26, 21, 42, 53, 0, time.UTC)
	tests := []struct {
		name   string
		in     string
		opt    CSVOptions
		bucket time.Duration
		rates  []float64
		start  time.Time
	}{
		{"nasa per-minute", "minute_index,requests\n0,60\n1,120\n2,0\n", CSVOptions{}, time.Minute, []float64{1, 2, 0}, time.Time{}},
		{"nab iso", "timestamp,value\n2015-02-26 21:42:53,600\n2015-02-26 21:47:53,300\n", CSVOptions{}, 5 * time.Minute, []float64{2, 1}, day},
		{"iso T and Z", "time,value\n2015-02-26T21:42:53Z,10\n2015-02-26T21:43:53Z,20\n", CSVOptions{}, time.Minute, []float64{10.0 / 60, 20.0 / 60}, day},
		{"gap filled with zero", "timestamp,value\n2015-02-26 21:42:53,60\n2015-02-26 21:43:53,60\n2015-02-26 21:46:53,120\n", CSVOptions{}, time.Minute, []float64{1, 1, 0, 0, 2}, day},
		{"seconds,rate", "seconds,rate\n0,1.5\n0.5,2\n1,0\n", CSVOptions{}, 500 * time.Millisecond, []float64{1.5, 2, 0}, time.Time{}},
		{"unix", "unix,value\n1424987000,10\n1424987010,20\n", CSVOptions{}, 10 * time.Second, []float64{1, 2}, time.Unix(1424987000, 0).UTC()},
		{"epoch seconds under another name", "timestamp,value\n1424987000,10\n1424987010,20\n", CSVOptions{}, 10 * time.Second, []float64{1, 2}, time.Unix(1424987000, 0).UTC()},
		{"epoch milliseconds", "time,value\n1424987000000,10\n1424987010000,20\n", CSVOptions{}, 10 * time.Second, []float64{1, 2}, time.Unix(1424987000, 0).UTC()},
		{"epoch milliseconds with a fraction", "time,value\n1424987000000.5,10\n1424987000250.5,20\n", CSVOptions{}, 250 * time.Millisecond, []float64{40, 80}, time.Unix(1424987000, 500_000).UTC()},
		{"unix_ms given", "a,b\n1000,10\n2000,20\n", CSVOptions{TimeFormat: TimeUnixMillis}, time.Second, []float64{10, 20}, time.Unix(1, 0).UTC()},
		{"seconds below 1e9 stay an offset", "t,value\n999999990,10\n1000000000,20\n", CSVOptions{}, 10 * time.Second, []float64{1, 2}, time.Time{}},
		{"no header, columns by index", "5,x,7\n6,y,14\n", CSVOptions{TimeColumn: "0", ValueColumn: "2", TimeFormat: TimeIndex, Bucket: 7 * time.Second}, 7 * time.Second, []float64{1, 2}, time.Time{}},
		{"named columns, rate values, explicit bucket", "a,b,when\n3,9,2015-02-26 21:42:53\n4,8,2015-02-26 21:44:53\n", CSVOptions{TimeColumn: "WHEN", ValueColumn: "b", Values: ValuesRate, Bucket: time.Minute}, time.Minute, []float64{9, 0, 8}, day},
		{"comments and blank lines", "# a trace\nminute_index,requests\n\n0,6\n# gap\n1,12\n", CSVOptions{}, time.Minute, []float64{0.1, 0.2}, time.Time{}},
		{"single row with bucket", "seconds,rate\n0,4\n", CSVOptions{Bucket: time.Second}, time.Second, []float64{4}, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadCSV(strings.NewReader(tc.in), "x.csv", tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Bucket != tc.bucket {
				t.Errorf("bucket %v, want %v", tr.Bucket, tc.bucket)
			}
			if !tr.Start.Equal(tc.start) {
				t.Errorf("start %v, want %v", tr.Start, tc.start)
			}
			if len(tr.Rates) != len(tc.rates) {
				t.Fatalf("rates %v, want %v", tr.Rates, tc.rates)
			}
			for i := range tc.rates {
				if !approxEq(tr.Rates[i], tc.rates[i], 1e-12) {
					t.Errorf("rates %v, want %v", tr.Rates, tc.rates)
					break
				}
			}
			if tr.Name != "x" {
				t.Errorf("name %q, want x", tr.Name)
			}
		})
	}
}

func TestLoadCSVErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opt  CSVOptions
		want string // substring, including the file and line
	}{
		{"empty file", "", CSVOptions{}, "t.csv: empty file"},
		{"header only", "timestamp,value\n", CSVOptions{}, "t.csv: no data rows"},
		{"negative value", "minute_index,requests\n0,1\n1,-3\n", CSVOptions{}, `t.csv line 3: count "-3": must be finite and >= 0`},
		{"negative rate", "seconds,rate\n0,1\n1,-3\n", CSVOptions{}, `t.csv line 3: rate "-3": must be finite and >= 0`},
		{"NaN", "minute_index,requests\n0,1\n1,2\n2,NaN\n", CSVOptions{}, `t.csv line 4: count "NaN": must be finite`},
		{"Inf", "minute_index,requests\n0,+Inf\n", CSVOptions{}, `t.csv line 2: count "+Inf"`},
		{"not a number", "minute_index,requests\n0,lots\n", CSVOptions{}, `t.csv line 2: count "lots": not a number`},
		{"epoch milliseconds out of range", "time,value\n4000000000001,1\n", CSVOptions{}, `t.csv line 2: timestamp "4000000000001": out of range`},
		{"milliseconds with 7 decimals", "time,value\n1424987000000.1234567,1\n", CSVOptions{}, `t.csv line 2: timestamp "1424987000000.1234567": more than 6 decimals`},
		{"unix_ms not a number", "a,b\nsoon,1\n", CSVOptions{TimeFormat: TimeUnixMillis}, `t.csv line 2: timestamp "soon": not a decimal number of milliseconds`},
		{"duplicate timestamp", "timestamp,value\n2015-02-26 21:42:53,1\n2015-02-26 21:47:53,2\n2015-02-26 21:47:53,3\n", CSVOptions{}, "t.csv line 4: timestamp \"2015-02-26 21:47:53\": not after the previous row (line 3)"},
		{"unsorted", "timestamp,value\n2015-02-26 21:42:53,1\n2015-02-26 21:47:53,2\n2015-02-26 21:52:53,2\n2015-02-26 21:37:53,3\n", CSVOptions{}, "t.csv line 5: timestamp \"2015-02-26 21:37:53\": not after the previous row (line 4)"},
		{"unsorted second row", "timestamp,value\n2015-02-26 21:42:53,1\n2015-02-26 21:40:53,2\n", CSVOptions{}, "t.csv line 3: timestamp"},
		{"duplicate index", "minute_index,requests\n0,1\n1,1\n1,1\n", CSVOptions{}, `t.csv line 4: timestamp "1": not after the previous row (line 3)`},
		{"off grid", "seconds,rate\n0,1\n60,1\n90,1\n", CSVOptions{}, `t.csv line 4: timestamp "90": 1m30s after the first row, not a multiple of the bucket 1m0s`},
		{"bad timestamp", "timestamp,value\n2015-02-26 21:42:53,1\nyesterday,1\n", CSVOptions{}, `t.csv line 3: timestamp "yesterday": not ISO 8601`},
		{"wrong column name", "timestamp,value\n2015-02-26 21:42:53,1\n", CSVOptions{ValueColumn: "requests"}, `t.csv line 1: value column "requests": no such column (have timestamp, value)`},
		{"column index out of range", "timestamp,value\n2015-02-26 21:42:53,1\n", CSVOptions{ValueColumn: "5"}, "t.csv line 1: value column 5: the first row has 2 columns"},
		{"name without header", "0,1\n1,2\n", CSVOptions{ValueColumn: "requests"}, `t.csv line 1: value column "requests": the file has no header row`},
		{"short row", "timestamp,value\n2015-02-26 21:42:53,1\n2015-02-26 21:47:53\n", CSVOptions{}, "t.csv line 3: 1 fields, but the first row (line 1) has 2"},
		{"same column twice", "a,b\n1,2\n", CSVOptions{TimeColumn: "a", ValueColumn: "0"}, "t.csv line 1: time and value are both column 0"},
		{"index without bucket", "k,v\n0,1\n", CSVOptions{TimeFormat: TimeIndex}, "t.csv: time format index needs a bucket length"},
		{"bad format", "seconds,rate\n0,1\n", CSVOptions{TimeFormat: "julian"}, `t.csv: time format "julian"`},
		{"bad values", "seconds,rate\n0,1\n", CSVOptions{Values: "bytes"}, `t.csv: values "bytes"`},
		{"one row no bucket", "seconds,rate\n0,1\n", CSVOptions{}, "t.csv: one data row: cannot infer the bucket length"},
		{"bare quote", "seconds,rate\n0,1\n1,\"2\n", CSVOptions{}, "t.csv line 3"},
		{"huge gap", "minute_index,requests\n0,1\n999999999999,1\n", CSVOptions{}, "t.csv line 3: timestamp \"999999999999\": bucket 999999999999: trace longer than"},
		{"long line", "seconds,rate\n0,1\n1," + strings.Repeat("1", MaxLineBytes+10) + "\n", CSVOptions{}, "t.csv line 3: longer than 1048576 bytes"},
		{"too many decimals", "seconds,rate\n0.0000000001,1\n", CSVOptions{}, `t.csv line 2: timestamp "0.0000000001": more than 9 decimals`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadCSV(strings.NewReader(tc.in), "t.csv", tc.opt)
			if err == nil {
				t.Fatalf("no error; got trace %+v", tr)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Name != "t.csv" {
				t.Errorf("error %v is not a *ParseError naming t.csv", err)
			}
		})
	}
}

func TestLoadCSVErrorSentinels(t *testing.T) {
	_, err := LoadCSV(strings.NewReader(""), "e.csv", CSVOptions{})
	if !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v is not ErrEmpty", err)
	}
	_, err = LoadCSV(strings.NewReader("a,b\n"+strings.Repeat("x", MaxLineBytes+1)), "e.csv", CSVOptions{})
	if !errors.Is(err, ErrLineTooLong) {
		t.Errorf("long line: %v is not ErrLineTooLong", err)
	}
	_, err = LoadCSV(strings.NewReader("minute_index,requests\n0,1\n100,1\n"), "e.csv", CSVOptions{MaxBuckets: 100})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("max buckets: %v is not ErrTooLarge", err)
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	spec := SynthSpec{Duration: 6 * time.Hour, Bucket: 1500 * time.Millisecond, BaseRate: 37.3,
		Diurnal: Diurnal{Amplitude: 0.6}, Noise: Noise{Sigma: 0.3}}
	synth, err := Synthesize(spec, 9)
	if err != nil {
		t.Fatal(err)
	}
	synth.Rates[3] = 0
	synth.Rates[4] = math.SmallestNonzeroFloat64
	withStart := synth.Clone()
	withStart.Start = time.Date(2024, 3, 1, 8, 0, 0, 123456789, time.FixedZone("x", 3600))
	for _, in := range []*Trace{synth, withStart} {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, in); err != nil {
			t.Fatal(err)
		}
		out, err := LoadCSV(bytes.NewReader(buf.Bytes()), in.Name+".csv", CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if out.Bucket != in.Bucket || !out.Start.Equal(in.Start) || len(out.Rates) != len(in.Rates) || out.Name != in.Name {
			t.Fatalf("round trip: bucket %v start %v len %d name %q; want %v %v %d %q", out.Bucket, out.Start, len(out.Rates), out.Name, in.Bucket, in.Start, len(in.Rates), in.Name)
		}
		for i := range in.Rates {
			if out.Rates[i] != in.Rates[i] {
				t.Fatalf("bucket %d: rate %v, want exactly %v", i, out.Rates[i], in.Rates[i])
			}
		}
	}
}

func TestSecondsFormatting(t *testing.T) {
	for _, ns := range []int64{0, 1, 500e6, 60e9, 1234567891, 86400e9 * 400} {
		s := string(appendSeconds(nil, ns))
		got, err := parseSeconds(s)
		if err != nil || got != ns {
			t.Errorf("%d ns -> %q -> %d, %v", ns, s, got, err)
		}
	}
	if s := string(appendSeconds(nil, 1500e6)); s != "1.5" {
		t.Errorf("1.5 s formatted as %q", s)
	}
	for _, bad := range []string{"", ".", "-", "1e3", "1.2.3", "0x10", "99999999999"} {
		if _, err := parseSeconds(bad); err == nil {
			t.Errorf("parseSeconds(%q): no error", bad)
		}
	}
}

// A value column named after a PromQL rate expression (Grafana's CSV export names
// it after the query) or a unit per second holds rates; a plain name still counts.
func TestLoadCSVRateHeader(t *testing.T) {
	start := time.Unix(1424987000, 0).UTC()
	for _, tc := range []struct {
		name, in string
		rates    []float64
	}{
		{"grafana rate( column", "\"Time\",\"rate(http_requests_total[5m])\"\n1424987000000,2.5\n1424987060000,3\n", []float64{2.5, 3}},
		{"sum of irate(", "time,\"sum(irate(http_requests_total{job=\"\"api\"\"}[1m]))\"\n1424987000,2.5\n1424987060,3\n", []float64{2.5, 3}},
		{"unit /s", "timestamp,Req/s\n1424987000,2.5\n1424987060,3\n", []float64{2.5, 3}},
		{"plain value column is a count", "\"Time\",\"value\"\n1424987000000,150\n1424987060000,180\n", []float64{2.5, 3}},
		{"plain requests column is a count", "time,requests\n1424987000,150\n1424987060,180\n", []float64{2.5, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := LoadCSV(strings.NewReader(tc.in), "g.csv", CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := ratesAre(time.Minute, tc.rates...)(tr); err != nil {
				t.Error(err)
			}
			if !tr.Start.Equal(start) {
				t.Errorf("start %v, want %v", tr.Start, start)
			}
		})
	}
}
