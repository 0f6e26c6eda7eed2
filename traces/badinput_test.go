package traces

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// badInput is one edge-case input to one loader: either an error (want, a substring
// naming the file and, where there is one, the line) or a trace that check accepts.
type badInput struct {
	loader, class string
	load          func() (*Trace, error)
	want          string             // error substring; "" means the input loads
	is            error              // when set, the error must match it (errors.Is)
	check         func(*Trace) error // the result, when the input loads
}

func csvIn(in string) func() (*Trace, error) {
	return func() (*Trace, error) { return LoadCSV(strings.NewReader(in), "t.csv", CSVOptions{}) }
}

func csvMax(in string, maxBuckets int) func() (*Trace, error) {
	return func() (*Trace, error) {
		return LoadCSV(strings.NewReader(in), "t.csv", CSVOptions{MaxBuckets: maxBuckets})
	}
}

func countsIn(in string, bucket time.Duration) func() (*Trace, error) {
	return func() (*Trace, error) { return loadCounts(strings.NewReader(in), "w.txt", bucket, 1<<16, false) }
}

// logIn builds an access log of one request per entry of secs (seconds after
// 1995-07-01 00:00:00 UTC, in that order) and loads it with a rate limit.
func logIn(secs []int64, maxRate float64) func() (*Trace, error) {
	var b strings.Builder
	base := time.Date(1995, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range secs {
		fmt.Fprintf(&b, "h - - [%s] \"GET / HTTP/1.0\" 200 1\n", base.Add(time.Duration(s)*time.Second).Format(clfTime))
	}
	return logText(b.String(), maxRate)
}

func logText(in string, maxRate float64) func() (*Trace, error) {
	return func() (*Trace, error) {
		return loadAccessLog(strings.NewReader(in), "a.log", AccessLogOptions{}, maxRate)
	}
}

// promT0 is the start of the FromSamples windows below.
var promT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// samplesIn reads "seconds value" pairs (seconds after promT0) as the points of a
// range query over (promT0, promT0+window] at a 60 s step.
func samplesIn(window time.Duration, pairs string) func() (*Trace, error) {
	return func() (*Trace, error) {
		var ss []Sample
		fields := strings.Fields(strings.ReplaceAll(pairs, ",", " "))
		for i := 0; i+1 < len(fields); i += 2 {
			sec, err := strconv.ParseInt(fields[i], 10, 64)
			if err != nil {
				return nil, err
			}
			v, err := strconv.ParseFloat(fields[i+1], 64)
			if err != nil {
				return nil, err
			}
			ss = append(ss, Sample{T: promT0.Add(time.Duration(sec) * time.Second), V: v})
		}
		tr, _, err := FromSamples("prom", ss, promT0, promT0.Add(window), time.Minute)
		if err != nil {
			return nil, err
		}
		return tr, nil
	}
}

// promIn writes "seconds value" pairs (seconds after promT0, values as written) as
// one series of a Prometheus range-query answer and loads it with a bucket limit.
func promIn(pairs string, maxBuckets int) func() (*Trace, error) {
	return func() (*Trace, error) {
		var vals []string
		fields := strings.Fields(strings.ReplaceAll(pairs, ",", " "))
		for i := 0; i+1 < len(fields); i += 2 {
			sec, err := strconv.ParseInt(fields[i], 10, 64)
			if err != nil {
				return nil, err
			}
			vals = append(vals, fmt.Sprintf("[%d,%q]", promT0.Unix()+sec, fields[i+1]))
		}
		doc := `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"api"},"values":[` + strings.Join(vals, ",") + `]}]}}`
		return LoadPromJSON(strings.NewReader(doc), "p.json", PromJSONOptions{MaxBuckets: maxBuckets})
	}
}

// ratesAre checks the bucket length and the rates exactly.
func ratesAre(bucket time.Duration, want ...float64) func(*Trace) error {
	return func(tr *Trace) error {
		if tr.Bucket != bucket {
			return fmt.Errorf("bucket %v, want %v", tr.Bucket, bucket)
		}
		if len(tr.Rates) != len(want) {
			return fmt.Errorf("rates %v, want %v", tr.Rates, want)
		}
		for i := range want {
			if tr.Rates[i] != want[i] {
				return fmt.Errorf("rates %v, want %v", tr.Rates, want)
			}
		}
		return nil
	}
}

// gapOf checks a trace of n buckets whose only non-zero buckets are the first and
// the last, each at rate r.
func gapOf(n int, r float64) func(*Trace) error {
	return func(tr *Trace) error {
		if len(tr.Rates) != n || tr.Rates[0] != r || tr.Rates[n-1] != r {
			return fmt.Errorf("%d buckets, first %v, last %v; want %d, %v, %v", len(tr.Rates), tr.Rates[0], tr.Rates[len(tr.Rates)-1], n, r, r)
		}
		for _, x := range tr.Rates[1 : n-1] {
			if x != 0 {
				return fmt.Errorf("gap holds rate %v, want 0", x)
			}
		}
		return nil
	}
}

// badInputs are the classes of bad input every loader meets: empty, only a header,
// negative, NaN, Inf, absurd magnitudes, duplicate or decreasing timestamps, huge
// gaps, and rows of the wrong width. Where a class does not apply to a format the
// closest input it has stands in for it.
var badInputs = []badInput{
	// CSV.
	{loader: "csv", class: "empty file", load: csvIn(""), want: "t.csv: empty file", is: ErrEmpty},
	{loader: "csv", class: "only comments", load: csvIn("# nothing\n\n"), want: "t.csv: empty file", is: ErrEmpty},
	{loader: "csv", class: "only a header", load: csvIn("seconds,rate\n"), want: "t.csv: no data rows", is: ErrEmpty},
	{loader: "csv", class: "negative", load: csvIn("seconds,rate\n0,1\n1,-1\n"), want: `t.csv line 3: rate "-1": must be finite and >= 0`},
	{loader: "csv", class: "NaN", load: csvIn("seconds,rate\n0,1\n1,NaN\n"), want: `t.csv line 3: rate "NaN": must be finite`},
	{loader: "csv", class: "Inf", load: csvIn("seconds,rate\n0,1\n1,Inf\n"), want: `t.csv line 3: rate "Inf": must be finite`},
	{loader: "csv", class: "overflowing value", load: csvIn("seconds,rate\n0,1\n1,1e309\n"), want: `t.csv line 3: rate "1e309": not a number`},
	{loader: "csv", class: "1e300 rate", load: csvIn("seconds,rate\n0,1e300\n1,1\n"), want: `t.csv line 2: rate "1e300": 1e+300 requests/s, above the limit of 1e+06 (traces.MaxRate)`},
	{loader: "csv", class: "rate just above MaxRate", load: csvIn("seconds,rate\n0,1\n1,1000000.5\n"), want: `t.csv line 3: rate "1000000.5": 1e+06 requests/s, above the limit`},
	{loader: "csv", class: "rate at MaxRate", load: csvIn("seconds,rate\n0,1000000\n1,0\n"), check: ratesAre(time.Second, MaxRate, 0)},
	{loader: "csv", class: "count above MaxRate once divided by the bucket", load: csvIn("minute_index,requests\n0,1\n1,60000060\n"), want: `t.csv line 3: count "60000060": 1e+06 requests/s, above the limit`},
	{loader: "csv", class: "count at MaxRate per minute", load: csvIn("minute_index,requests\n0,60000000\n"), check: ratesAre(time.Minute, MaxRate)},
	{loader: "csv", class: "first-row count above MaxRate, bucket inferred later", load: csvIn("seconds,count\n0,3e6\n1,1\n"), want: `t.csv line 2: count "3e6": 3e+06 requests/s, above the limit`},
	{loader: "csv", class: "duplicate timestamp", load: csvIn("seconds,rate\n0,1\n1,1\n1,2\n"), want: `t.csv line 4: timestamp "1": not after the previous row (line 3)`},
	{loader: "csv", class: "duplicate first timestamp", load: csvIn("seconds,rate\n0,1\n0,2\n"), want: `t.csv line 3: timestamp "0": not after the previous row (line 2)`},
	{loader: "csv", class: "decreasing timestamp", load: csvIn("seconds,rate\n0,1\n60,1\n120,1\n30,1\n"), want: `t.csv line 5: timestamp "30"`},
	{loader: "csv", class: "huge gap past the bucket limit", load: csvMax("minute_index,requests\n0,1\n5000,1\n", 4096), want: `t.csv line 3: timestamp "5000": bucket 5000: trace longer than 4096 buckets`, is: ErrTooLarge},
	{loader: "csv", class: "huge gap between the first two rows (inferred bucket)", load: csvIn("seconds,rate\n0,1\n4000000000,1\n"), want: "t.csv line 3: timestamp \"4000000000\": 1111111h6m40s after the first row: a bucket longer than 744h"},
	{loader: "csv", class: "gap within the limit, filled with zeros", load: csvIn("minute_index,requests\n0,60\n999,60\n"), check: gapOf(1000, 1)},
	{loader: "csv", class: "extra column", load: csvIn("seconds,rate\n0,1\n1,2,3\n2,1\n"), want: "t.csv line 3: 3 fields, but the first row (line 1) has 2: every row needs the same columns"},
	{loader: "csv", class: "trailing comma", load: csvIn("seconds,rate\n0,1,\n"), want: "t.csv line 2: 3 fields, but the first row (line 1) has 2"},
	{loader: "csv", class: "missing column", load: csvIn("seconds,rate\n0,1\n1\n"), want: "t.csv line 3: 1 fields, but the first row (line 1) has 2"},
	{loader: "csv", class: "extra column without a header", load: csvIn("0,1\n1,2\n2,3,4\n"), want: "t.csv line 3: 3 fields, but the first row (line 1) has 2"},
	{loader: "csv", class: "headerless two columns: seconds and counts", load: csvIn("0,5\n1,7\n3,1\n"), check: ratesAre(time.Second, 5, 7, 0, 1)},
	{loader: "csv", class: "UTF-8 byte order mark before the header", load: csvIn("\ufeffminute_index,requests\n0,60\n1,120\n"), check: ratesAre(time.Minute, 1, 2)},
	{loader: "csv", class: "UTF-8 byte order mark before headerless rows", load: csvIn("\ufeff0,5\n1,7\n"), check: ratesAre(time.Second, 5, 7)},
	{loader: "csv", class: "CRLF line endings", load: csvIn("seconds,rate\r\n0,5\r\n1,7\r\n"), check: ratesAre(time.Second, 5, 7)},
	{loader: "csv", class: "semicolon separators", load: csvIn("# exported\nseconds;rate\n0;5\n1;7\n"), check: ratesAre(time.Second, 5, 7)},
	{loader: "csv", class: "tab separators", load: csvIn("seconds\trate\n0\t5\n1\t7\n"), check: ratesAre(time.Second, 5, 7)},
	{loader: "csv", class: "semicolon separators with decimal commas", load: csvIn("seconds;rate\n0;1,5\n"), want: `t.csv line 2: rate "1,5": not a number`},
	{loader: "csv", class: "headerless ISO timestamps", load: csvIn("2015-02-26 21:42:53,600\n2015-02-26 21:47:53,300\n"), check: ratesAre(5*time.Minute, 2, 1)},

	// Whitespace counts: no header and no timestamps (the position is the bucket), so
	// a header is a non-number and order is the order of the buckets.
	{loader: "counts", class: "empty file", load: countsIn("", time.Second), want: "w.txt: no counts", is: ErrEmpty},
	{loader: "counts", class: "only comments", load: countsIn("# none\n\n", time.Second), want: "w.txt: no counts", is: ErrEmpty},
	{loader: "counts", class: "UTF-8 byte order mark", load: countsIn("\ufeff5\n7\n", time.Second), check: ratesAre(time.Second, 5, 7)},
	{loader: "counts", class: "only a header", load: countsIn("requests\n", time.Second), want: `w.txt line 1: count "requests": not a number`},
	{loader: "counts", class: "negative", load: countsIn("1 2\n-3\n", time.Second), want: `w.txt line 2: count "-3": must be finite and >= 0`},
	{loader: "counts", class: "NaN", load: countsIn("1\nnan\n", time.Second), want: `w.txt line 2: count "nan": must be finite`},
	{loader: "counts", class: "Inf", load: countsIn("1 -Inf", time.Second), want: `w.txt line 1: count "-Inf": must be finite`},
	{loader: "counts", class: "1e300", load: countsIn("1\n2\n1e300\n", time.Second), want: `w.txt line 3: count "1e300": 1e+300 requests/s, above the limit of 1e+06`},
	{loader: "counts", class: "count above MaxRate per second", load: countsIn("2000000", time.Second), want: `w.txt line 1: count "2000000": 2e+06 requests/s`},
	{loader: "counts", class: "the same count at MaxRate over 2 s buckets", load: countsIn("2000000 0", 2*time.Second), check: ratesAre(2*time.Second, MaxRate, 0)},
	{loader: "counts", class: "more counts than the bucket limit", load: countsIn(strings.Repeat("1 ", 1<<16+1), time.Second), want: "w.txt line 1: more than 65536 counts", is: ErrTooLarge},

	// Access logs: requests are counted, so values cannot be negative, NaN or Inf; a
	// malformed line stands in for them. Duplicate seconds are several requests and
	// out-of-order lines are normal (servers log on completion).
	{loader: "accesslog", class: "empty file", load: logText("", MaxRate), want: "a.log: no requests", is: ErrEmpty},
	{loader: "accesslog", class: "only blank lines", load: logText("\n \n", MaxRate), want: "a.log: no requests", is: ErrEmpty},
	{loader: "accesslog", class: "only a header", load: logText("host ident user time request status bytes\n", MaxRate), want: "a.log line 1: no [timestamp]"},
	{loader: "accesslog", class: "negative size", load: logText(`h - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 -5`+"\n", MaxRate), want: `a.log line 1: size "-5"`},
	{loader: "accesslog", class: "UTF-8 byte order mark", load: logText("\ufeff"+`h - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1`+"\n", MaxRate), check: ratesAre(time.Second, 1)},
	{loader: "accesslog", class: "duplicate seconds are counted", load: logIn([]int64{0, 0, 0, 1}, MaxRate), check: ratesAre(time.Second, 3, 1)},
	{loader: "accesslog", class: "decreasing timestamps are counted from the earliest", load: logIn([]int64{5, 2, 4, 2}, MaxRate), check: ratesAre(time.Second, 2, 0, 1, 1)},
	{loader: "accesslog", class: "gap within the limit, filled with zeros", load: logIn([]int64{0, 999}, MaxRate), check: gapOf(1000, 1)},
	{loader: "accesslog", class: "huge gap (a century)", load: logText(`h - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1`+"\n"+`h - - [01/Jul/2095:00:00:01 -0400] "GET / HTTP/1.0" 200 1`+"\n", MaxRate), want: "a.log line 2: requests span", is: ErrTooLarge},
	{loader: "accesslog", class: "a second above the rate limit", load: logIn([]int64{0, 1, 1, 1}, 2), want: "a.log: second 1995-07-01T00:00:01Z: 3 requests, above the limit of 2 requests/s"},

	// Prometheus range-query points (FromSamples), 60 s step over a 5 m window.
	{loader: "prometheus", class: "no samples", load: samplesIn(5*time.Minute, ""), want: "prom: no data: the query answered no samples", is: ErrEmpty},
	{loader: "prometheus", class: "negative", load: samplesIn(5*time.Minute, "60 1, 120 -1"), want: "prom: sample at 2026-01-01T00:02:00Z: rate -1: must be finite and >= 0"},
	{loader: "prometheus", class: "NaN", load: samplesIn(5*time.Minute, "60 NaN"), want: "prom: sample at 2026-01-01T00:01:00Z: rate NaN: must be finite"},
	{loader: "prometheus", class: "Inf", load: samplesIn(5*time.Minute, "60 +Inf"), want: "prom: sample at 2026-01-01T00:01:00Z: rate +Inf: must be finite"},
	{loader: "prometheus", class: "1e300", load: samplesIn(5*time.Minute, "60 1e300"), want: "prom: sample at 2026-01-01T00:01:00Z: rate 1e+300 requests/s: above the limit of 1e+06"},
	{loader: "prometheus", class: "duplicate timestamp", load: samplesIn(5*time.Minute, "60 1, 60 2"), want: "prom: two samples at 2026-01-01T00:01:00Z: want one series"},
	{loader: "prometheus", class: "decreasing timestamps land in their buckets", load: samplesIn(5*time.Minute, "300 5, 60 1, 180 3"), check: ratesAre(time.Minute, 1, 0, 3, 0, 5)},
	{loader: "prometheus", class: "off the step grid", load: samplesIn(5*time.Minute, "90 1"), want: "prom: sample at 2026-01-01T00:01:30Z: not on the step grid"},
	{loader: "prometheus", class: "at the window start (belongs to the bucket before)", load: samplesIn(5*time.Minute, "0 1"), want: "prom: sample at 2026-01-01T00:00:00Z: not on the step grid"},
	{loader: "prometheus", class: "gap filled with zeros", load: samplesIn(5*time.Minute, "60 2, 300 2"), check: gapOf(5, 2)},
	{loader: "prometheus", class: "huge window", load: samplesIn(100*366*24*time.Hour, "60 1"), want: "prom: 52704000 buckets of 1m0s: too large", is: ErrTooLarge},
	{loader: "prometheus", class: "window shorter than a step", load: samplesIn(30*time.Second, "60 1"), want: "prom: window 30s is shorter than one step"},
	{loader: "prometheus", class: "empty window", load: samplesIn(0, "60 1"), want: "prom: end 2026-01-01T00:00:00Z: must be after start"},

	// The saved answer of a range query (promjson): one series here, 60 s apart.
	{loader: "promjson", class: "empty file", load: func() (*Trace, error) { return LoadPromJSON(strings.NewReader(""), "p.json", PromJSONOptions{}) }, want: "p.json: empty file", is: ErrEmpty},
	{loader: "promjson", class: "only a header (no points)", load: promIn("", 1<<16), want: "p.json: the 1 series in data.result have no points", is: ErrEmpty},
	{loader: "promjson", class: "negative", load: promIn("0 1, 60 -1", 1<<16), want: `p.json: series 0 at 2026-01-01T00:01:00Z: value "-1": must be finite and >= 0`},
	{loader: "promjson", class: "NaN", load: promIn("0 1, 60 NaN", 1<<16), want: `p.json: series 0 at 2026-01-01T00:01:00Z: value "NaN": must be finite`},
	{loader: "promjson", class: "Inf", load: promIn("0 -Inf, 60 1", 1<<16), want: `p.json: series 0 at 2026-01-01T00:00:00Z: value "-Inf": must be finite`},
	{loader: "promjson", class: "1e300", load: promIn("0 1e300, 60 1", 1<<16), want: `p.json: series 0 at 2026-01-01T00:00:00Z: value "1e300": 1e+300 requests/s, above the limit of 1e+06`},
	{loader: "promjson", class: "duplicate timestamp", load: promIn("0 1, 60 1, 60 2", 1<<16), want: "p.json: series 0: two points at 2026-01-01T00:01:00Z"},
	{loader: "promjson", class: "decreasing timestamps land in their steps", load: promIn("240 5, 0 1, 180 3, 60 2", 1<<16), check: ratesAre(time.Minute, 1, 2, 0, 3, 5)},
	{loader: "promjson", class: "gap within the limit, filled with zeros", load: promIn("0 2, 59940 2, 59880 0", 1<<16), check: gapOf(1000, 2)},
	{loader: "promjson", class: "huge gap past the bucket limit", load: promIn("0 1, 60 1, 300000 1", 4096), want: "p.json: 5001 steps of 1m0s from 2026-01-01T00:00:00Z to 2026-01-04T11:20:00Z: too large (at most 4096)", is: ErrTooLarge},
}

func TestLoadersBadInput(t *testing.T) {
	counts := map[string]int{}
	for _, tc := range badInputs {
		counts[tc.loader]++
		t.Run(tc.loader+"/"+tc.class, func(t *testing.T) {
			tr, err := tc.load()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want a trace, got error %v", err)
				}
				if err := tr.Validate(); err != nil {
					t.Fatalf("loaded an invalid trace: %v", err)
				}
				if err := tc.check(tr); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; got %d buckets of %v: %v", len(tr.Rates), tr.Bucket, tr.Rates[:min(len(tr.Rates), 8)])
			}
			if tr != nil {
				t.Errorf("a trace and an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
	t.Logf("%d cases: %v", len(badInputs), counts)
}

// No file a loader accepts describes more requests than MaxRate allows, so trace
// info's request count stays a number of sane size (it once printed 301 digits).
func TestTotalBoundedByMaxRate(t *testing.T) {
	for _, in := range []string{"seconds,rate\n0,1e300\n1,1\n", "seconds,rate\n0,1.7976931348623157e308\n1,1.7976931348623157e308\n"} {
		if _, err := LoadCSV(strings.NewReader(in), "t.csv", CSVOptions{}); err == nil {
			t.Errorf("%q loaded", in)
		}
	}
	tr, err := LoadCSV(strings.NewReader("seconds,rate\n0,1000000\n3600,1000000\n"), "t.csv", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Info(tr)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * 3600 * MaxRate; st.Total != want {
		t.Errorf("total %v, want %v", st.Total, want)
	}
	if s := strconv.FormatFloat(st.Total, 'f', 0, 64); len(s) > 10 {
		t.Errorf("total prints as %s", s)
	}
}

func TestScaleTargets(t *testing.T) {
	tr := &Trace{Name: "x", Bucket: time.Second, Rates: []float64{1, 3, 0, 4}}
	for _, tc := range []struct {
		name string
		f    func(*Trace, float64) (*Trace, error)
		v    float64
		want string
	}{
		{"mean NaN", ScaleMean, math.NaN(), `scale "x": mean NaN: must be finite and in (0, 1e+06]`},
		{"mean +Inf", ScaleMean, math.Inf(1), "mean +Inf: must be finite"},
		{"mean negative", ScaleMean, -5, "mean -5: must be finite"},
		{"mean zero", ScaleMean, 0, "mean 0: must be finite and in (0"},
		{"mean above MaxRate", ScaleMean, 2e6, "mean 2e+06: must be finite and in (0, 1e+06]"},
		{"peak NaN", ScalePeak, math.NaN(), "peak NaN"},
		{"peak zero", ScalePeak, 0, "peak 0"},
		{"mean whose peak passes MaxRate", ScaleMean, 6e5, `scale "x" to mean 600000: the peak would be 1.2e+06 requests/s, above the limit`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.f(tr, tc.v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v (trace %v), want it to contain %q", err, out, tc.want)
			}
		})
	}
	// Mean 2 to 5e5 takes the peak 4 to exactly MaxRate: allowed.
	if out, err := ScaleMean(tr, 5e5); err != nil || out.Rates[3] != MaxRate {
		t.Errorf("scale mean to 5e5: %v %v", out, err)
	}
	if out, err := ScalePeak(tr, MaxRate); err != nil || out.Rates[3] != MaxRate {
		t.Errorf("scale peak to MaxRate: %v %v", out, err)
	}
	zero := &Trace{Name: "z", Bucket: time.Second, Rates: []float64{0, 0}}
	if _, err := ScaleMean(zero, 10); err == nil || !strings.Contains(err.Error(), "all zeros") {
		t.Errorf("all-zero trace: %v", err)
	}
	// Rates near the ends of the float range neither underflow to zero nor overflow.
	tiny := &Trace{Name: "t", Bucket: time.Second, Rates: []float64{math.SmallestNonzeroFloat64, 0}}
	out, err := ScaleMean(tiny, 10)
	if err != nil || out.Rates[0] != 20 || out.Rates[1] != 0 {
		t.Errorf("tiny rates scaled to mean 10: %v %v, want [20 0]", out, err)
	}
	out, err = ScalePeak(tiny, 10)
	if err != nil || out.Rates[0] != 10 {
		t.Errorf("tiny rates scaled to peak 10: %v %v", out, err)
	}
	// Rates whose sum overflows (a trace built in Go; no loader accepts them) scale to
	// the target, not to zeros.
	huge := &Trace{Name: "h", Bucket: time.Second, Rates: []float64{1e308, 1e308, 0, 5e307}}
	out, err = ScaleMean(huge, 10)
	if err != nil || !approxEq(out.Rates[0], 16, 1e-12) || out.Rates[2] != 0 || !approxEq(out.Rates[3], 8, 1e-12) {
		t.Errorf("1e308 rates scaled to mean 10: %v, %v; want [16 16 0 8]", out, err)
	}
}

// Synthesis keeps to MaxRate too: base_rate is bounded, and a spec whose factors
// lift the rate above the limit is refused rather than simulated for years.
func TestSynthMaxRate(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec SynthSpec
		want string
	}{
		{"base rate", SynthSpec{Duration: time.Hour, BaseRate: 2e6}, "base_rate: 2e+06: must be in [0, 1e+06]"},
		{"flash crowd", SynthSpec{Duration: time.Hour, BaseRate: 1000, FlashCrowds: []FlashCrowd{{At: time.Minute, Peak: 1e4}}}, `synth spec "synthetic": bucket 1 (at 1m): rate 9.835e+06 requests/s, above the limit of 1e+06 (traces.MaxRate): base_rate (1000) times`},
		{"flash crowd peak", SynthSpec{Duration: time.Hour, BaseRate: 1000, FlashCrowds: []FlashCrowd{{At: time.Minute, Peak: 1e300}}}, "flash_crowds[0].peak: 1e+300: must be finite and > 0, at most 1e+06 (traces.MaxSynthFactor)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := Synthesize(tc.spec, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v (trace %v), want it to contain %q", err, tr != nil, tc.want)
			}
		})
	}
}
