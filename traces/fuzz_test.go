package traces

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"
)

// The fuzz targets check that no input makes a parser panic and that whatever it
// accepts is a valid trace. `go test` runs the seeds; `go test -fuzz FuzzLoadCSV`
// explores further.

func FuzzLoadCSV(f *testing.F) {
	for _, s := range []string{
		"minute_index,requests\n0,42\n1,62\n",
		"timestamp,value\n2015-02-26 21:42:53,57\n2015-02-26 21:47:53,43\n",
		"seconds,rate\n0,1.5\n0.5,2\n",
		"timestamp,rate\n2024-03-01T08:00:00.5+01:00,3\n2024-03-01T08:00:02+01:00,4\n",
		"unix,value\n1424987000,10\n1424987010,20\n",
		"a,b\n1,\"2\n",
		"0,1\n0,1\n",
		"minute_index,requests\n0,-1\n",
		"",
		"sep=;\ntimestamp;value\n2015-02-26 21:40:00;5,5\n2015-02-26 21:45:00;6\n",
		"timestamp,value\n2015-02-26T21:42:53+0100,5\n2015-02-26 21:47:53 UTC,6\n2015-02-26 21:52:53+01,7\n",
		"timestamp,value\n2015-10-25 02:30:00,5\n2015-10-25 02:00:00,6\n",
		"timestamp,value\n2015-02-26 21:40:00,5\nTimestamp,Value\n2015-02-26 21:45:00,6\n",
		"timestamp,value,value\n0,1,2\n",
		"\" timestamp \",\"value\",\n\"2015-02-26 21:40:00\",\"1,234\",\n\n# c\n",
		"seconds,rate\n60,1\n0,2\n",
		"requests\n5\n6\n",
	} {
		for opt := range 4 {
			f.Add([]byte(s), uint8(opt))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, opt uint8) {
		o := CSVOptions{MaxBuckets: 1 << 16}
		switch opt % 4 {
		case 1:
			o.TimeFormat, o.Bucket = TimeIndex, time.Second
		case 2:
			o.TimeColumn, o.ValueColumn, o.Values = "1", "0", ValuesRate
		case 3:
			o.TimeFormat = TimeUnix
		}
		tr, err := LoadCSV(bytes.NewReader(data), "fuzz.csv", o)
		if !checkFuzzed(t, tr, err) {
			return
		}
		if len(tr.Rates) > o.MaxBuckets {
			t.Fatalf("%d buckets, limit %d", len(tr.Rates), o.MaxBuckets)
		}
	})
}

func FuzzLoadCounts(f *testing.F) {
	for _, s := range []string{"0 1 2 3", "1\n2\n# c\n3.5", "1e3 NaN", "-1", " \t\r\n", "99999999999999999999999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := loadCounts(bytes.NewReader(data), "fuzz.txt", time.Second, 1<<16, false)
		checkFuzzed(t, tr, err)
	})
}

// loadAccessLogLines is LoadAccessLog with lines of at most maxLine bytes: the
// long-line path without megabytes of input.
func loadAccessLogLines(r io.Reader, name string, opt AccessLogOptions, maxLine int) (*Trace, error) {
	return loadAccessLogLimits(r, name, opt, MaxRate, maxLine, nil)
}

func FuzzLoadAccessLog(f *testing.F) {
	for _, s := range []string{
		`1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 6245` + "\n",
		`h - u [10/Oct/2000:13:55:36 -0700] "GET /a\"b HTTP/1.0" 404 - "ref" "ua"` + "\n",
		"garbage\n[]\"\n",
		`a - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 1` + "\n" + `a - - [01/Jul/1995:00:20:01 -0400] "x" 500 2` + "\n",
		`[2001:db8::2] - - [10/Oct/2000:13:55:38 -0700] "GET /b HTTP/1.1" 200 12 "-" "Mozilla/5.0 (X11; Linux)"` + "\r\n" + `::1 - - [10/Oct/2000:13:55:37.5 +0545] "" 400 -` + "\n",
		"h - - [x] \"GET /" + strings.Repeat("a", 200) + "\" 200 1\n\xff\xfe\x00",
	} {
		f.Add([]byte(s), int8(0))
		f.Add([]byte(s), int8(-1))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxBad int8) {
		tr, err := loadAccessLogLines(bytes.NewReader(data), "fuzz.log", AccessLogOptions{MaxMalformed: int(maxBad), MaxBuckets: 1 << 16}, 128)
		if !checkFuzzed(t, tr, err) {
			return
		}
		if tr.Total() > float64(bytes.Count(data, []byte{'\n'})+1) {
			t.Fatalf("%v requests from %d lines", tr.Total(), bytes.Count(data, []byte{'\n'})+1)
		}
	})
}

// FuzzLoadData feeds a file's bytes through what LoadFile does after opening it:
// decompression by magic number, refusal of data that is not text, the sniffing of
// the format and the loaders.
func FuzzLoadData(f *testing.F) {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write([]byte("seconds,rate\n0,1\n10,2\n"))
	w.Close()
	for _, s := range []string{
		z.String(),
		z.String()[:20],
		"BZh91AY&SY8\xba\xcfy\x00\x00\x01\xd8\x00\x00\x10@\x00\x04\x00 \x000\xcc\x0cz\x88qw$S\x85\t\x03\x8b\xac\xf7\x90",
		"\xff\xfes\x00,\x00r\x00\n\x00",
		"PK\x03\x04",
		"# x\nseconds\trate\n0\t1\n10\t2\n",
		"1\t2\t3\n",
		`1.2.3.4 - - [01/Jul/1995:00:00:01 -0400] "GET / HTTP/1.0" 200 6245` + "\n",
		`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[1767225600,"1.5"],[1767225615.5,"2"],[1767225660,"NaN"]]},` +
			`{"metric":{"__name__":"x_total"},"values":[[1767225600,"3"],[1767225630,"4"]]}]}}`,
		`{"status":"error","errorType":"bad_data","error":"e"}` + "\n",
	} {
		f.Add([]byte(s), "x")
		f.Add([]byte(s), "x.csv.gz")
		f.Add([]byte(s), "x.txt")
		f.Add([]byte(s), "x.json")
	}
	f.Fuzz(func(t *testing.T, data []byte, fileName string) {
		opt := LoadOptions{CSV: CSVOptions{MaxBuckets: 1 << 16}, AccessLog: AccessLogOptions{MaxBuckets: 1 << 16}, PromJSON: PromJSONOptions{MaxBuckets: 1 << 16}}
		tr, err := loadData(bytes.NewReader(data), "fuzz", fileName, opt, 1<<20, nil)
		checkFuzzed(t, tr, err)
	})
}

// checkFuzzed fails a fuzz case that returned a trace with an error, or accepted an
// invalid trace or a rate above MaxRate; it reports whether a trace was accepted.
func checkFuzzed(t *testing.T, tr *Trace, err error) bool {
	t.Helper()
	if err != nil {
		if tr != nil {
			t.Fatalf("trace and error %v", err)
		}
		return false
	}
	if err := tr.Validate(); err != nil {
		t.Fatalf("accepted an invalid trace: %v", err)
	}
	if err := tr.checkMaxRate(); err != nil {
		t.Fatalf("accepted a rate above MaxRate: %v", err)
	}
	return true
}
